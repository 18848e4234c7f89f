package exposure

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/khien-vn/khien/internal/check"
)

// serviceClass groups protocols under one check.
type serviceClass int

const (
	classDatabase serviceClass = iota
	classRemoteAdmin
)

// Service probe states.
const (
	svcClosed     = "closed"     // connection refused
	svcFiltered   = "filtered"   // no answer to the connection attempt
	svcOther      = "open"       // connected, but the protocol's handshake did not happen
	svcIdentified = "identified" // the protocol answered: the service is exposed
	svcError      = "error"      // could not tell (a failure that is neither of the above)
)

// serviceProbe is one protocol tried on one port of one address.
type serviceProbe struct {
	Endpoint string // "name|address:port" or "address:port"
	Protocol string // PostgreSQL, MySQL… (the Options.Ports key)
	State    string
	// Details summarize the handshake: version, authentication asked, TLS, error text.
	Details map[string]string
	First   string // hex of the first bytes received when they were not the protocol's
	Err     string
	why     check.Text // Err in both languages (check.DescribeError), for the reasons
}

// session is what a handshake may use besides its connection: a way to open another (the
// Elasticsearch probe retries over TLS), the name to present, and the time allowed.
type session struct {
	ctx     context.Context
	dial    func() (net.Conn, error)
	timeout time.Duration
	host    string // Host header and TLS server name; empty for an address
	ua      string
}

// handshake speaks the first step of a protocol on conn. It returns the details of a
// recognized service, or ok false with the bytes received.
type handshake func(s *session, conn net.Conn) (details map[string]string, got []byte, ok bool)

type protocol struct {
	name  string
	label string
	class serviceClass
	shake handshake
}

// protocols are tried in this order on every address.
var protocols = []protocol{
	{PostgreSQL, "PostgreSQL", classDatabase, shakePostgres},
	{MySQL, "MySQL", classDatabase, shakeMySQL},
	{MSSQL, "SQL Server", classDatabase, shakeMSSQL},
	{MongoDB, "MongoDB", classDatabase, shakeMongo},
	{Redis, "Redis", classDatabase, shakeRedis},
	{Elasticsearch, "Elasticsearch", classDatabase, shakeElasticsearch},
	{RDP, "RDP", classRemoteAdmin, shakeRDP},
	{Telnet, "Telnet", classRemoteAdmin, shakeTelnet},
	{VNC, "VNC", classRemoteAdmin, shakeVNC},
	{SMB, "SMB", classRemoteAdmin, shakeSMB},
}

func protocolNamed(name string) (protocol, bool) {
	i := slices.IndexFunc(protocols, func(p protocol) bool { return p.name == name })
	if i < 0 {
		return protocol{}, false
	}
	return protocols[i], true
}

// observeServices tries every protocol on its ports at every address, at most
// opts.concurrency() at a time per address.
func observeServices(ctx context.Context, t target, env check.Env, opts Options, lim *limiter) []serviceProbe {
	type job struct {
		i     int
		ip    netip.Addr
		addr  string
		proto protocol
	}
	var (
		out  []serviceProbe
		jobs []job
	)
	for _, a := range t.addrs {
		for _, p := range protocols {
			for _, port := range opts.ports(p.name) {
				jobs = append(jobs, job{len(out), a, hostPort(a, port), p})
				out = append(out, serviceProbe{Endpoint: endpointName(t, a, port), Protocol: p.name})
			}
		}
	}
	ua := env.UserAgent
	if ua == "" {
		ua = "Khien"
	}
	host := ""
	if t.name {
		host = t.host
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() {
			release, err := lim.acquire(ctx, j.ip)
			if err != nil {
				out[j.i].State, out[j.i].Err, out[j.i].why = svcError, err.Error(), check.DescribeError(err)
				return
			}
			defer release()
			probeService(ctx, env, host, ua, j.addr, j.proto, &out[j.i])
		})
	}
	wg.Wait()
	return out
}

func probeService(ctx context.Context, env check.Env, host, ua, addr string, p protocol, out *serviceProbe) {
	parent := ctx
	dial := func() (net.Conn, error) {
		// Derived from the resource's context, not the conversation's: the guard does not
		// count the wait for the address's budget against this time-out, and neither must
		// the conversation's clock.
		dctx, dcancel := context.WithTimeout(parent, env.Timeout)
		defer dcancel()
		return env.Dial(dctx, "tcp", addr)
	}
	conn, err := dial()
	if err != nil {
		out.State, out.Err, out.why = dialState(err), err.Error(), check.DescribeError(err)
		return
	}
	defer conn.Close()
	// The conversation's clock starts once connected.
	ctx, cancel := context.WithTimeout(ctx, 4*env.Timeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	s := &session{ctx: ctx, dial: dial, timeout: env.Timeout, host: host, ua: ua}
	details, got, ok := p.shake(s, conn)
	if ok {
		out.State, out.Details = svcIdentified, details
		return
	}
	out.State = svcOther
	if len(got) > 32 {
		got = got[:32]
	}
	out.First = hex.EncodeToString(got)
}

// dialState tells a closed port (refused) and a filtered one (no answer) from other failures.
func dialState(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return svcClosed
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return svcFiltered
	}
	return svcError
}

// summary names an exposed service in a reason: "MySQL 8.0.36 tại/at db.example|192.0.2.1:3306",
// with a note when it let Khiên in without a password. The full details are in the evidence.
func (sp serviceProbe) summary() check.Text {
	p, _ := protocolNamed(sp.Protocol)
	name := p.label
	if v := sp.Details["version"]; v != "" {
		name += " " + v
	}
	t := check.Text{VI: name + " tại " + sp.Endpoint, EN: name + " at " + sp.Endpoint}
	if strings.HasPrefix(sp.Details["auth"], "none") {
		t.VI += " (không cần mật khẩu)"
		t.EN += " (no password needed)"
	}
	return t
}

// serviceCheck fails when any protocol of class answered on any port of any address.
func serviceCheck(class serviceClass) func(observation) check.Result {
	return func(o observation) check.Result {
		var (
			status               check.Status
			evs                  []any
			exposed              []check.Text
			endpoint             string
			problems, problemsVI []string
			labels               []string
			tried                int
		)
		for _, p := range protocols {
			if p.class == class {
				labels = append(labels, p.label)
			}
		}
		for _, sp := range o.Services {
			p, ok := protocolNamed(sp.Protocol)
			if !ok || p.class != class {
				continue
			}
			tried++
			ev := map[string]any{"endpoint": sp.Endpoint, "protocol": p.label, "state": sp.State}
			switch sp.State {
			case svcIdentified:
				status = worst(status, check.Fail)
				ev["details"] = sp.Details
				exposed = append(exposed, sp.summary())
				if endpoint == "" {
					endpoint = sp.Endpoint
				}
			case svcOther:
				status = worst(status, check.Pass)
				ev["observed"] = "open, not " + p.label
				if sp.First != "" {
					ev["first_bytes"] = sp.First
				}
			case svcClosed, svcFiltered:
				status = worst(status, check.Pass)
			default:
				status = worst(status, check.Error)
				problems = append(problems, p.label+" "+sp.Endpoint+": "+sp.Err)
				problemsVI = append(problemsVI, p.label+" "+sp.Endpoint+": "+whyVI(sp.why))
			}
			if sp.Err != "" {
				ev["error"] = sp.Err
			}
			evs = append(evs, ev)
		}
		evidence := map[string]any{"services": evs}
		list := strings.Join(labels, ", ")
		switch status {
		case "":
			return check.Result{Status: check.NotApplicable, Evidence: evidence, Reason: check.Text{
				VI: "Không có cổng nào được cấu hình để thử " + list + ".",
				EN: "No ports are configured to try " + list + " on.",
			}}
		case check.Fail:
			var vi, en []string
			for _, e := range exposed {
				vi, en = append(vi, e.VI), append(en, e.EN)
			}
			return check.Result{Status: check.Fail, Endpoint: endpoint, Evidence: evidence, Reason: check.Text{
				VI: "Dịch vụ trả lời đúng giao thức của nó khi kết nối từ bên ngoài: " + strings.Join(vi, "; ") + ".",
				EN: "A service completes its own protocol handshake when reached from outside: " + strings.Join(en, "; ") + ".",
			}}
		case check.Error:
			l := strings.Join(firstN(problems, 3), "; ")
			return check.Result{Status: check.Error, Evidence: evidence, Reason: check.Text{
				VI: "Không thử được hết các dịch vụ: " + strings.Join(firstN(problemsVI, 3), "; ") + ".",
				EN: "Could not try every service: " + l + ".",
			}}
		}
		return check.Result{Status: check.Pass, Evidence: evidence, Reason: check.Text{
			VI: fmt.Sprintf("Không dịch vụ nào (%s) trả lời trên %d cổng đã thử: cổng đóng, không phản hồi, hoặc mở nhưng không nói giao thức đó.", list, tried),
			EN: fmt.Sprintf("None of %s answered on the %d ports tried: each was closed, silent, or open but not speaking that protocol.", list, tried),
		}}
	}
}
