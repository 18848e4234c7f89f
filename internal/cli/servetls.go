package cli

import (
	"crypto/tls"
	"flag"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/web"
)

// tlsFlags say how the server speaks TLS: with the operator's certificate, with a
// self-signed one it makes on first start and keeps beside the store, or (for local
// development only) not at all.
type tlsFlags struct {
	cert, key *string
	insecure  *bool
}

func newTLSFlags(env Env, fs *flag.FlagSet) tlsFlags {
	return tlsFlags{
		cert:     fs.String("tls-cert", env.Getenv("KHIEN_TLS_CERT"), "PEM certificate chain to serve (env KHIEN_TLS_CERT; default: a self-signed certificate kept in khien-tls.pem beside the store)"),
		key:      fs.String("tls-key", env.Getenv("KHIEN_TLS_KEY"), "PEM private key of --tls-cert (env KHIEN_TLS_KEY)"),
		insecure: fs.Bool("insecure-http", false, "serve plain HTTP, for local development only: browsers then refuse the session cookie except on localhost"),
	}
}

// listener wraps ln in TLS as the flags say and returns it with its URL scheme.
func (t tlsFlags) listener(db string, ln net.Listener) (net.Listener, string, error) {
	if *t.insecure {
		return ln, "http", nil
	}
	var cert tls.Certificate
	var err error
	switch {
	case *t.cert != "" || *t.key != "":
		if *t.cert == "" || *t.key == "" {
			return nil, "", errs.E(errs.Invalid, "--tls-cert and --tls-key go together")
		}
		cert, err = tls.LoadX509KeyPair(*t.cert, *t.key)
		if err != nil {
			return nil, "", errs.Wrap(errs.Invalid, err, "cannot load --tls-cert/--tls-key")
		}
	default:
		dir := "."
		if !strings.Contains(db, "://") || strings.HasPrefix(db, "sqlite://") {
			dir = filepath.Dir(strings.TrimPrefix(db, "sqlite://"))
		}
		host, _, _ := net.SplitHostPort(ln.Addr().String())
		cert, err = web.SelfSignedCert(filepath.Join(dir, "khien-tls.pem"), []string{"localhost", "127.0.0.1", "::1", host}, time.Now())
		if err != nil {
			return nil, "", err
		}
	}
	return tls.NewListener(ln, web.TLSConfig(cert)), "https", nil
}
