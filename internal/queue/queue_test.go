package queue

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestValid(t *testing.T) {
	tests := []struct {
		j  Job
		ok bool
	}{
		{Job{Kind: "assess.resource", Key: "20261123T095703Z-3f68ef31ddd1"}, true},
		{Job{Kind: "index.recompute_all", Key: "k"}, true},
		{Job{Kind: "Assess.Resource", Key: "k"}, false},
		{Job{Kind: "assess resource", Key: "k"}, false},
		{Job{Kind: "assess.*", Key: "k"}, false},
		{Job{Kind: "assess.", Key: "k"}, false},
		{Job{Kind: "assess.resource"}, false},
		{Job{Kind: "assess.resource", Key: string(make([]byte, 513))}, false},
	}
	for _, tt := range tests {
		if err := tt.j.Valid(); (err == nil) != tt.ok {
			t.Errorf("Job{%q, %.20q}.Valid() = %v, want ok %v", tt.j.Kind, tt.j.Key, err, tt.ok)
		}
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("no such resource")
	err := fmt.Errorf("job k: %w", Permanent(base))
	if !IsPermanent(err) || !errors.Is(err, base) || err.Error() != "job k: no such resource" {
		t.Errorf("Permanent wrapped = %v (permanent %v, is base %v)", err, IsPermanent(err), errors.Is(err, base))
	}
	if IsPermanent(base) || Permanent(nil) != nil {
		t.Error("a plain error is permanent, or Permanent(nil) is not nil")
	}
}

func TestBackoff(t *testing.T) {
	for attempt, want := range map[int]time.Duration{1: 2 * time.Second, 2: 4 * time.Second, 5: 32 * time.Second, 8: 256 * time.Second, 9: 5 * time.Minute, 50: 5 * time.Minute, 0: 5 * time.Minute} {
		for range 20 {
			if got := Backoff(attempt); got > want || got < want*4/5 {
				t.Fatalf("Backoff(%d) = %v, want within a fifth below %v", attempt, got, want)
			}
		}
	}
}

func TestCall(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	if err := Call(ctx, func(context.Context, Job) error { panic("bug") }, Job{}); err == nil || Interrupted(err) {
		t.Errorf("Call(panicking handler) = %v, want an error, not an interruption", err)
	}
	cancel()
	if err := Call(ctx, func(ctx context.Context, _ Job) error { return ctx.Err() }, Job{}); !Interrupted(err) {
		t.Errorf("Call(handler stopped with its worker) = %v, want ErrInterrupted", err)
	}
}

func TestSlots(t *testing.T) {
	s := NewSlots(3)
	if n := s.Take(t.Context(), 2); n != 2 {
		t.Fatalf("Take(2) of 3 free = %d", n)
	}
	if n := s.Take(t.Context(), 5); n != 1 {
		t.Fatalf("Take(5) with 1 free = %d", n)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if n := s.Take(ctx, 1); n != 0 {
		t.Fatalf("Take with none free = %d, want 0 once ctx ends", n)
	}
	s.Release(3)
	if n := s.Take(t.Context(), 3); n != 3 {
		t.Fatalf("Take(3) after Release(3) = %d", n)
	}
}
