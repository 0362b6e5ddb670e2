package pdfsign

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/digitorus/pdf"
	"github.com/digitorus/pdfsign/sign"
	"github.com/prometheus/client_golang/prometheus"
)

// ErrTimestamp says the time-stamping authority gave no timestamp (down,
// slow, or an answer that is not one) where one was required.
var ErrTimestamp = errors.New("no timestamp from the time-stamping authority")

// SealOptions configure a Sealer.
type SealOptions struct {
	// TSA is an RFC 3161 time-stamping authority's URL; empty: no
	// timestamps.
	TSA string
	// TSAWait bounds one timestamp request. Zero value: 5 seconds.
	TSAWait time.Duration
	// TSARequired refuses to seal without a timestamp (ErrTimestamp);
	// otherwise a copy is sealed without one and Sealed says why.
	TSARequired bool
}

// Sealer signs finished PDFs digitally with an identity: a CMS detached
// signature over the whole file with the signing certificate embedded
// (adbe.pkcs7.detached), and an RFC 3161 timestamp over the signature
// when a TSA is configured.
type Sealer struct {
	id   *Identity
	opts SealOptions
	// relay is a loopback address that forwards timestamp requests to
	// the TSA within TSAWait: the PDF library's own HTTP client waits
	// forever on a TSA that does not answer.
	relay string
	stop  func()
	// unstamped counts copies sealed without the timestamp asked for.
	unstamped prometheus.Counter
}

// Sealed is a sealed copy and what its signature holds.
type Sealed struct {
	PDF []byte
	// Timestamp is the TSA's time in the signature; when there is none,
	// TimestampError says why.
	Timestamp      *time.Time
	TimestampError string
}

// NewSealer seals with id. Close stops its TSA relay.
func NewSealer(id *Identity, opts SealOptions) (*Sealer, error) {
	if opts.TSAWait <= 0 {
		opts.TSAWait = 5 * time.Second
	}
	s := &Sealer{id: id, opts: opts, stop: func() {}, unstamped: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cohub_seals_without_timestamp_total",
		Help: "Signed copies sealed without the timestamp asked for: the time-stamping authority was down or slow.",
	})}
	if opts.TSA != "" {
		if err := s.startRelay(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Collector is the sealer's metric, for a server's registry.
func (s *Sealer) Collector() prometheus.Collector { return s.unstamped }

// Timestamps says seals ask a time-stamping authority for its time.
func (s *Sealer) Timestamps() bool { return s.opts.TSA != "" }

// Identity is who the sealer signs as.
func (s *Sealer) Identity() *Identity { return s.id }

// Close stops the TSA relay.
func (s *Sealer) Close() { s.stop() }

// Seal signs doc as signer (the name the signature's dictionary shows)
// at at. A TSA that fails makes a copy without a timestamp unless one
// is required (ErrTimestamp).
func (s *Sealer) Seal(doc []byte, signer string, at time.Time) (Sealed, error) {
	if s.opts.TSA == "" {
		out, err := s.sign(doc, signer, at, "")
		return Sealed{PDF: out, TimestampError: "no time-stamping authority is configured"}, err
	}
	out, err := s.sign(doc, signer, at, s.relay)
	if err == nil {
		return s.readBack(out)
	}
	if !errors.Is(err, errTSA) {
		return Sealed{}, err
	}
	if s.opts.TSARequired {
		return Sealed{}, fmt.Errorf("%w: %v", ErrTimestamp, err)
	}
	out, err2 := s.sign(doc, signer, at, "")
	if err2 == nil {
		s.unstamped.Inc()
	}
	return Sealed{PDF: out, TimestampError: err.Error()}, err2
}

var errTSA = errors.New("time-stamping authority")

// readBack reads the seal just made: its timestamp's time, and proof
// that what leaves here verifies.
func (s *Sealer) readBack(out []byte) (Sealed, error) {
	seals, err := ReadSeals(out)
	if err != nil {
		return Sealed{}, fmt.Errorf("seal: reading it back: %w", err)
	}
	last := seals[len(seals)-1]
	if !last.Valid {
		return Sealed{}, errors.New("seal: the signature made does not verify")
	}
	if last.Timestamp == nil {
		return Sealed{}, errors.New("seal: the timestamp asked for is missing")
	}
	return Sealed{PDF: out, Timestamp: last.Timestamp}, nil
}

func (s *Sealer) sign(doc []byte, signer string, at time.Time, tsa string) (out []byte, err error) {
	// The library panics on some malformed input; a panic must not
	// reach a customer.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: the document could not be signed", ErrNotPDF)
		}
	}()
	rdr, err := pdf.NewReader(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotPDF, err)
	}
	var buf bytes.Buffer
	data := sign.SignData{
		Signature: sign.SignDataSignature{
			Info:     sign.SignDataSignatureInfo{Name: signer, Reason: "Signed in a Cohub session", Date: at},
			CertType: sign.ApprovalSignature,
		},
		Signer:          s.id.Key,
		DigestAlgorithm: crypto.SHA256,
		Certificate:     s.id.Cert,
		TSA:             sign.TSA{URL: tsa},
	}
	if err := sign.Sign(bytes.NewReader(doc), &buf, rdr, int64(len(doc)), data); err != nil {
		if tsa != "" && isTSAError(err) {
			return nil, fmt.Errorf("%w: %v", errTSA, err)
		}
		return nil, fmt.Errorf("seal: %w", err)
	}
	return buf.Bytes(), nil
}

// isTSAError tells the library's timestamp failures ("get timestamp",
// "parse timestamp") from the others.
func isTSAError(err error) bool { return strings.Contains(err.Error(), "timestamp") }

// startRelay listens on loopback and hands each request on to the TSA
// within TSAWait, answering 504 when it does not answer in time.
func (s *Sealer) startRelay() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("timestamp relay: %w", err)
	}
	client := &http.Client{Timeout: s.opts.TSAWait}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.relayOne(client, w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	s.relay = "http://" + ln.Addr().String() + "/"
	s.stop = func() { _ = srv.Close() }
	return nil
}

func (s *Sealer) relayOne(client *http.Client, w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.TSAWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.TSA, bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header.Set("Content-Type", "application/timestamp-query")
	resp, err := client.Do(req)
	if err != nil {
		http.Error(w, "the time-stamping authority did not answer in time", http.StatusGatewayTimeout)
		return
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		http.Error(w, "the time-stamping authority's answer was cut short", http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(reply)
}
