package lab

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/scope"
)

// Org is the code of the lab's organization in the inventory.
const Org = "LAB"

// UserAgent is what the lab's ownership proofs send over HTTP.
const UserAgent = "Khien-Lab/1 (phòng thí nghiệm / lab)"

// Inventory returns the lab as an inventory: the organization LAB, one system per scenario
// (and lab-bench for the benchmark hosts) and a dns: resource per host, none verified: Register
// proves ownership the way an agency would.
func (l *Lab) Inventory() inventory.Inventory {
	inv := inventory.Inventory{Orgs: []inventory.Organization{{
		Code: Org, Name: "Phòng thí nghiệm Khiên", Level: inventory.LevelCentral,
		Head: inventory.Person{Name: "Quản trị phòng thí nghiệm", Title: "Quản trị viên", Contact: "lab@lab.khien.test"},
	}}}
	seen := map[string]bool{}
	for _, h := range l.Hosts {
		if !seen[h.System] {
			seen[h.System] = true
			name := "Phòng thí nghiệm: " + h.About.VI
			if h.Scenario == Bench {
				name = "Phòng thí nghiệm: máy đo hiệu năng (trang thông tin điển hình)"
			}
			inv.Systems = append(inv.Systems, inventory.System{
				ID: h.System, Org: Org, Name: name, Purpose: h.About.EN,
				Level: 1, Stage: inventory.StageTest, Operator: "Khiên lab",
			})
		}
		inv.Resources = append(inv.Resources, inventory.Resource{ID: "dns:" + h.Name, System: h.System})
	}
	return inv
}

// Register writes the lab's inventory into svc's store and proves ownership of every host,
// as an agency would: a challenge issued by the service, its TXT record published in the lab's
// DNS, and the service's Verify with a prover that reaches the lab's DNS server through a
// loopback-fenced guard. Registering again (a new lab over an old store) proves them again.
func (l *Lab) Register(ctx context.Context, svc *inventory.Service) error {
	inv := l.Inventory()
	if err := svc.ApplyInventory(ctx, inv); err != nil {
		return fmt.Errorf("lab: register the lab's inventory: %w", err)
	}
	ids := make([]string, len(inv.Resources))
	for i, r := range inv.Resources {
		ids[i] = r.ID
	}
	return l.Verify(ctx, svc, ids...)
}

// Verify proves ownership of resources of svc's store whose names the lab serves (the lab's
// hosts, the demo province's names): for each, it issues the challenge, publishes it (the DNS
// TXT record, and the HTTP token on the lab's web hosts for ip: resources) and verifies it.
func (l *Lab) Verify(ctx context.Context, svc *inventory.Service, ids ...string) error {
	prover := &scope.Prover{Guard: l.Guard(5 * time.Second), UserAgent: UserAgent}
	work := make(chan string)
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for range min(8, len(ids)) {
		wg.Go(func() {
			for id := range work {
				if err := l.verify(ctx, svc, prover, id); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, id := range ids {
		select {
		case work <- id:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.Join(errs...)
}

func (l *Lab) verify(ctx context.Context, svc *inventory.Service, p inventory.Prover, id string) error {
	c, err := svc.IssueChallenge(ctx, id)
	if err != nil {
		return fmt.Errorf("lab: challenge for %s: %w", id, err)
	}
	if err := l.Publish(c); err != nil {
		return err
	}
	if _, err := svc.Verify(ctx, id, p); err != nil {
		return fmt.Errorf("lab: verify %s: %w", id, err)
	}
	return nil
}

// Publish meets challenge c the way its owner would: the TXT record in the lab's DNS (next to
// any other value published at the same name) and the token at the well-known HTTP path of
// the challenge's host on every lab web host.
func (l *Lab) Publish(c inventory.Challenge) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.DNSName != "" {
		if !slices.Contains(l.txt[c.DNSName], c.DNSValue) {
			l.txt[c.DNSName] = append(l.txt[c.DNSName], c.DNSValue)
		}
		if err := l.DNS.SetTXT(c.DNSName, l.txt[c.DNSName]...); err != nil {
			return fmt.Errorf("lab: publish %s: %w", c.DNSName, err)
		}
	}
	if u, err := url.Parse(c.HTTPURL); err == nil && u.Host != "" {
		l.tokens[hostOf(u.Host)] = c.Token
	}
	return nil
}
