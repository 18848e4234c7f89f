package exposure

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// Soft-404 similarity. A site that answers every path with the same "not found" page (often
// with the path echoed in it) produces bodies that differ in a few bytes; a real file differs
// everywhere. The measure is the Jaccard similarity of the two bodies' sets of 8-byte
// shingles, estimated from bottom-k sketches (Broder, 1997): the k smallest hashes of each
// set. It costs one pass over each body and a fixed 1 KiB per sketch, and unlike a character
// histogram (Python's SequenceMatcher.quick_ratio, which Artemis uses) it does not call two
// unrelated HTML pages similar because they use the same letters.

const (
	shingleLen = 8
	sketchSize = 128
	// softThreshold is the similarity at or above which a body is taken for the soft-404
	// page: Artemis's bruter uses the same 0.8.
	softThreshold = 0.8
)

// similarity returns the estimated Jaccard similarity of a's and b's shingle sets, in [0, 1].
// Two empty bodies are identical; an empty body resembles nothing else.
func similarity(a, b []byte) float64 {
	return similarityTo(a, nil, b)
}

// similarityTo is similarity(a, b) with a's sketch computed once by the caller (nil: compute
// it here), for comparing many bodies with one soft-404 page.
func similarityTo(a []byte, sa []uint64, b []byte) float64 {
	switch {
	case bytes.Equal(a, b):
		return 1
	case len(a) == 0 || len(b) == 0:
		return 0
	}
	if sa == nil {
		sa = sketch(a)
	}
	return jaccard(sa, sketch(b))
}

// sketch returns the sketchSize smallest distinct shingle hashes of b, ascending. A body
// shorter than a shingle is one shingle.
func sketch(b []byte) []uint64 {
	h := make(maxHeap, 0, sketchSize)
	if len(b) < shingleLen {
		var w [shingleLen]byte
		copy(w[:], b)
		h.offer(mix(binary.LittleEndian.Uint64(w[:]) ^ uint64(len(b))))
	} else {
		for i := 0; i+shingleLen <= len(b); i++ {
			h.offer(mix(binary.LittleEndian.Uint64(b[i:])))
		}
	}
	slices.Sort(h)
	return h
}

// jaccard estimates |A∩B|/|A∪B| from two bottom-k sketches: among the k smallest hashes of
// the union, the share found in both. Every one of them that is in A is also in A's sketch,
// since fewer than k elements of A are smaller.
func jaccard(x, y []uint64) float64 {
	i, j, n, both := 0, 0, 0, 0
	for n < sketchSize && (i < len(x) || j < len(y)) {
		switch {
		case j >= len(y) || (i < len(x) && x[i] < y[j]):
			i++
		case i >= len(x) || y[j] < x[i]:
			j++
		default:
			both++
			i++
			j++
		}
		n++
	}
	if n == 0 {
		return 1
	}
	return float64(both) / float64(n)
}

// mix is the SplitMix64 finalizer: it spreads the shingle's bits so that "smallest hashes"
// is a uniform sample of the set.
func mix(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z
}

// maxHeap keeps the sketchSize smallest distinct values offered, the largest on top.
type maxHeap []uint64

func (h *maxHeap) offer(v uint64) {
	full := len(*h) >= sketchSize
	if full && v >= (*h)[0] {
		return
	}
	if slices.Contains(*h, v) {
		return
	}
	if !full {
		*h = append(*h, v)
		h.up(len(*h) - 1)
		return
	}
	(*h)[0] = v
	h.down(0)
}

func (h maxHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h[p] >= h[i] {
			return
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func (h maxHeap) down(i int) {
	for {
		l, big := 2*i+1, i
		if l < len(h) && h[l] > h[big] {
			big = l
		}
		if r := l + 1; r < len(h) && h[r] > h[big] {
			big = r
		}
		if big == i {
			return
		}
		h[i], h[big] = h[big], h[i]
		i = big
	}
}
