package lab

import (
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestBindError(t *testing.T) {
	opErr := func(e syscall.Errno) error {
		return &net.OpError{Op: "listen", Net: "tcp", Err: os.NewSyscallError("bind", e)}
	}
	tests := []struct {
		err        error
		privileged bool
		says       string
	}{
		{opErr(syscall.EACCES), true, "sudo setcap cap_net_bind_service=+ep $(which khien)"},
		{opErr(syscall.EADDRNOTAVAIL), false, "alias the address"},
		{opErr(syscall.EADDRINUSE), false, "another lab running"},
	}
	for _, tt := range tests {
		err := bindError("127.77.1.1:443", tt.err)
		if errors.Is(err, ErrPrivileged) != tt.privileged || !strings.Contains(err.Error(), tt.says) || !strings.Contains(err.Error(), "127.77.1.1:443") {
			t.Errorf("bindError(%v) = %v", tt.err, err)
		}
		if !errors.Is(err, tt.err.(*net.OpError).Err.(*os.SyscallError).Err) {
			t.Errorf("bindError(%v) does not wrap the cause", tt.err)
		}
	}
}

func TestAddresses(t *testing.T) {
	l := &Lab{prefix: DefaultPrefix}
	for _, tt := range []struct{ got, want string }{
		{l.addr(0, 53).String(), "127.77.0.53"},
		{l.benchAddr(0).String(), "127.77.10.1"},
		{l.benchAddr(249).String(), "127.77.10.250"},
		{l.benchAddr(250).String(), "127.77.11.1"},
		{l.benchAddr(MaxHosts - 1).String(), "127.77.255.250"},
		{BenchName(7), "h0007.bench.lab.khien.test"},
		{hostOf("[::1]:80"), "::1"},
		{hostOf("Good.Lab.Khien.Test"), "good.lab.khien.test"},
		{hostOf("127.77.1.1:8080"), "127.77.1.1"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
}
