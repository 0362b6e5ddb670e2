package pdfsign_test

import (
	"slices"
	"testing"
	"time"

	"github.com/cohub/cohub/pdfsign"
	"github.com/cohub/cohub/pdfsign/sealtest"
)

// BenchmarkSeal seals a 20-page, 2 MB document, without and with a
// timestamp (the TSA in the test process, on loopback): the time of one
// seal at p50 and p99, and the memory one takes.
func BenchmarkSeal(b *testing.B) {
	doc := pdfsign.SampleOfSize("Contract", 20, 2<<20)
	for _, stamped := range []bool{false, true} {
		name := "no-timestamp"
		opts := pdfsign.SealOptions{}
		if stamped {
			name, opts.TSA = "timestamp", sealtest.StartTSA(b).URL
		}
		b.Run(name, func(b *testing.B) {
			id, err := pdfsign.DerivedIdentity([]byte(testSecret))
			if err != nil {
				b.Fatal(err)
			}
			s, err := pdfsign.NewSealer(id, opts)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				out, err := s.Seal(doc, "Dana Signer", time.Now())
				if err != nil || (stamped && out.Timestamp == nil) {
					b.Fatalf("seal: %v, timestamp %v", err, out.Timestamp)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
