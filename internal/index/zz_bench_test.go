package index
import "testing"
func BenchmarkSmall(b *testing.B){
 in := generate(b, 11, smallSize(11))
 m := DefaultMethod()
 for b.Loop() { Compute(in, m, genAsOf) }
}
