package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/auth"
	"github.com/khien-vn/khien/internal/errs"
)

// OIDCStore is an AuthStore that keeps the links of OpenID Connect identities and the
// sign-ins through a provider under way.
type OIDCStore interface {
	AuthStore
	auth.OIDCStore
}

// RunOIDC runs the contract of auth.OIDCStore. open must return an empty, migrated store
// that is closed when its t ends.
func RunOIDC(t *testing.T, open func(t *testing.T) OIDCStore) {
	tests := []struct {
		name string
		test func(t *testing.T, st OIDCStore)
	}{
		{"Links", testOIDCLinks},
		{"LinksOf", testOIDCLinksOf},
		{"PendingOnce", testOIDCPendingOnce},
		{"PendingConcurrent", testOIDCPendingConcurrent},
		{"EmailLinkConcurrent", testOIDCEmailLinkConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, open(t)) })
	}
}

func testOIDCLinks(t *testing.T, st OIDCStore) {
	authFixture(t, st)
	ctx := t.Context()
	if err := st.CreateUser(ctx, user("u-1", "lan@hn.gov.vn", auth.Auditor, "HN"), entry("user.create", "u-1", "HN")); err != nil {
		t.Fatal(err)
	}
	before := head(t, st)
	l := auth.OIDCLink{Issuer: "https://idp.example.vn", Subject: "s-1", UserID: "u-1", Email: "lan@hn.gov.vn", Created: t0()}
	if err := st.CreateOIDCLink(ctx, l, entry("user.link_oidc", "u-1", "HN")); err != nil {
		t.Fatal(err)
	}
	if h := head(t, st); h.Seq != before.Seq+1 {
		t.Errorf("the link appended no audit entry: head %d, was %d", h.Seq, before.Seq)
	}
	want := l
	want.Created = t0().UTC().Truncate(time.Microsecond)
	if got, err := st.OIDCLink(ctx, l.Issuer, l.Subject); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("OIDCLink = %+v, %v\nwant       %+v", got, err, want)
	}
	if got, err := st.OIDCLinks(ctx, "u-1"); err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("OIDCLinks = %+v, %v", got, err)
	}
	if got, err := st.OIDCLinks(ctx, "u-none"); err != nil || len(got) != 0 {
		t.Errorf("OIDCLinks of nobody = %+v, %v", got, err)
	}
	// The subject is compared exactly: another case is another subject.
	if _, err := st.OIDCLink(ctx, l.Issuer, "S-1"); !errs.Is(err, errs.NotFound) {
		t.Errorf("OIDCLink of S-1 = %v, want NotFound", err)
	}
	if _, err := st.OIDCLink(ctx, "https://other.example.vn", "s-1"); !errs.Is(err, errs.NotFound) {
		t.Errorf("OIDCLink of another issuer = %v, want NotFound", err)
	}
	h := head(t, st)
	if err := st.CreateOIDCLink(ctx, l, entry("user.link_oidc", "u-1", "HN")); !errs.Is(err, errs.Conflict) {
		t.Errorf("CreateOIDCLink twice = %v, want Conflict", err)
	}
	missing := auth.OIDCLink{Issuer: l.Issuer, Subject: "s-2", UserID: "u-none", Created: t0()}
	if err := st.CreateOIDCLink(ctx, missing, entry("user.link_oidc", "u-none", "HN")); !errs.Is(err, errs.NotFound) {
		t.Errorf("CreateOIDCLink of a missing user = %v, want NotFound", err)
	}
	if got := head(t, st); got.Seq != h.Seq {
		t.Errorf("refused links appended audit entries: head %d, was %d", got.Seq, h.Seq)
	}
}

// testOIDCLinksOf checks that the links of many accounts are read at once: all of those
// accounts' links and no other's, however long the list.
func testOIDCLinksOf(t *testing.T, st OIDCStore) {
	authFixture(t, st)
	ctx := t.Context()
	for _, u := range []auth.User{user("u-1", "lan", auth.Auditor, "HN"), user("u-2", "minh", auth.Auditor, "DN"),
		user("u-3", "hoa", auth.Auditor, "HN")} {
		if err := st.CreateUser(ctx, u, entry("user.create", u.ID, u.Org)); err != nil {
			t.Fatal(err)
		}
	}
	const iss = "https://idp.example.vn"
	for _, l := range []auth.OIDCLink{{Issuer: iss, Subject: "s-1", UserID: "u-1"}, {Issuer: iss, Subject: "s-1b", UserID: "u-1"},
		{Issuer: iss, Subject: "s-2", UserID: "u-2"}} {
		l.Created = t0()
		if err := st.CreateOIDCLink(ctx, l, entry("user.link_oidc", l.UserID, "HN")); err != nil {
			t.Fatal(err)
		}
	}
	long := []string{"u-3", "u-1"}
	for i := range 1200 {
		long = append(long, fmt.Sprintf("u-none-%d", i))
	}
	for _, c := range []struct {
		name string
		ids  []string
		want []string // subjects, sorted
	}{
		{"none", nil, nil},
		{"unlinked", []string{"u-3"}, nil},
		{"two", []string{"u-1", "u-2"}, []string{"s-1", "s-1b", "s-2"}},
		{"many", long, []string{"s-1", "s-1b"}},
	} {
		ls, err := st.OIDCLinksOf(ctx, c.ids)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got []string
		for _, l := range ls {
			got = append(got, l.Subject)
			if l.Issuer != iss || !l.Created.Equal(t0().Truncate(time.Microsecond)) {
				t.Errorf("%s: link %+v", c.name, l)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: OIDCLinksOf = %v, want %v", c.name, got, c.want)
		}
	}
}

func testOIDCPendingOnce(t *testing.T, st OIDCStore) {
	ctx := t.Context()
	p := auth.OIDCPending{StateHash: "h1", Nonce: "n", Verifier: "v", Created: t0(), Expires: t0().Add(10 * time.Minute)}
	if err := st.CreateOIDCPending(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateOIDCPending(ctx, p); !errs.Is(err, errs.Conflict) {
		t.Errorf("CreateOIDCPending twice = %v, want Conflict", err)
	}
	want := p
	want.Created, want.Expires = p.Created.UTC().Truncate(time.Microsecond), p.Expires.UTC().Truncate(time.Microsecond)
	if got, err := st.TakeOIDCPending(ctx, "h1", t0().Add(time.Minute)); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("TakeOIDCPending = %+v, %v\nwant              %+v", got, err, want)
	}
	if _, err := st.TakeOIDCPending(ctx, "h1", t0().Add(time.Minute)); !errs.Is(err, errs.NotFound) {
		t.Errorf("TakeOIDCPending twice = %v, want NotFound", err)
	}
	// An expired one is not returned, and is gone.
	old := auth.OIDCPending{StateHash: "h2", UserID: "u-1", Created: t0(), Expires: t0().Add(5 * time.Minute)}
	if err := st.CreateOIDCPending(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := st.TakeOIDCPending(ctx, "h2", t0().Add(5*time.Minute)); !errs.Is(err, errs.NotFound) {
		t.Errorf("TakeOIDCPending at its expiry = %v, want NotFound", err)
	}
	// Starting a sign-in forgets the ones that expired before it.
	if err := st.CreateOIDCPending(ctx, auth.OIDCPending{StateHash: "h3", Created: t0(), Expires: t0().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateOIDCPending(ctx, auth.OIDCPending{StateHash: "h4", Created: t0().Add(time.Hour), Expires: t0().Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.TakeOIDCPending(ctx, "h3", t0()); !errs.Is(err, errs.NotFound) {
		t.Errorf("TakeOIDCPending of an expired sign-in after a newer one began = %v, want NotFound", err)
	}
}

// testOIDCPendingConcurrent takes one state from many goroutines: exactly one gets it.
func testOIDCPendingConcurrent(t *testing.T, st OIDCStore) {
	ctx := t.Context()
	if err := st.CreateOIDCPending(ctx, auth.OIDCPending{StateHash: "h", Nonce: "n", Verifier: "v", Created: t0(), Expires: t0().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		got  int
		errc []error
	)
	for range 8 {
		wg.Go(func() {
			_, err := st.TakeOIDCPending(ctx, "h", t0())
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				got++
			case !errs.Is(err, errs.NotFound):
				errc = append(errc, err)
			}
		})
	}
	wg.Wait()
	if got != 1 || len(errc) > 0 {
		t.Errorf("%d takes of one state succeeded, want 1; other errors: %v", got, errc)
	}
}

// testOIDCEmailLinkConcurrent links eight identities of one issuer to one account by e-mail
// at once, as concurrent first sign-ins would after each found the account unlinked: one link
// is made, the others are Conflicts. Links by an operator (no e-mail) and links of another
// issuer are not limited by it.
func testOIDCEmailLinkConcurrent(t *testing.T, st OIDCStore) {
	authFixture(t, st)
	ctx := t.Context()
	if err := st.CreateUser(ctx, user("u-1", "lan@hn.gov.vn", auth.SecurityOfficer, "HN"), entry("user.create", "u-1", "HN")); err != nil {
		t.Fatal(err)
	}
	const iss = "https://idp.example.vn"
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		made int
		errc []error
	)
	for i := range 8 {
		wg.Go(func() {
			l := auth.OIDCLink{Issuer: iss, Subject: fmt.Sprintf("s-%d", i), UserID: "u-1", Email: "lan@hn.gov.vn", Created: t0()}
			err := st.CreateOIDCLink(ctx, l, entry("user.link_oidc", "u-1", "HN"))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				made++
			case !errs.Is(err, errs.Conflict):
				errc = append(errc, err)
			}
		})
	}
	wg.Wait()
	if made != 1 || len(errc) > 0 {
		t.Errorf("%d concurrent links by e-mail made, want 1; other errors: %v", made, errc)
	}
	if ls, err := st.OIDCLinks(ctx, "u-1"); err != nil || len(ls) != 1 {
		t.Errorf("OIDCLinks = %+v, %v; want one", ls, err)
	}
	for _, l := range []auth.OIDCLink{
		{Issuer: iss, Subject: "s-operator", UserID: "u-1", Created: t0()},                                         // by an operator
		{Issuer: "https://other.example.vn", Subject: "s-0", UserID: "u-1", Email: "lan@hn.gov.vn", Created: t0()}, // another issuer
	} {
		if err := st.CreateOIDCLink(ctx, l, entry("user.link_oidc", "u-1", "HN")); err != nil {
			t.Errorf("CreateOIDCLink(%s, %s) = %v", l.Issuer, l.Subject, err)
		}
	}
}
