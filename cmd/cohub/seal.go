package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/cohub/cohub/pdfsign"
)

// openSealer makes the sealer of signed copies: the configured identity,
// or one derived from the secret that every node shares; it refuses to
// start, in a sentence that says why, on an identity it cannot use.
func openSealer(cfg *config, secret []byte, log zerolog.Logger) (*pdfsign.Sealer, error) {
	id, err := signingIdentity(cfg, secret)
	if err != nil {
		return nil, err
	}
	about := id.About()
	ev := log.Info()
	if id.SelfSigned {
		ev = log.Warn()
	}
	ev.Str("subject", about.Subject).Str("fingerprint_sha256", about.Fingerprint).Time("not_after", about.NotAfter).
		Bool("self_signed", about.SelfSigned).Bool("timestamps", cfg.TSAURL != "").
		Msg(sealMessage(cfg, id))
	return pdfsign.NewSealer(id, pdfsign.SealOptions{TSA: cfg.TSAURL, TSARequired: cfg.TSARequired})
}

func sealMessage(cfg *config, id *pdfsign.Identity) string {
	switch {
	case cfg.SigningCert == "":
		return "signed copies are sealed with a self-signed identity derived from --secret: readers show them intact but their signer unknown; set --signing-cert and --signing-key for your organisation's"
	case id.SelfSigned:
		return "signed copies are sealed with a self-signed certificate"
	}
	return "signed copies are sealed with the configured identity"
}

func signingIdentity(cfg *config, secret []byte) (*pdfsign.Identity, error) {
	if cfg.SigningCert == "" && cfg.SigningKey == "" {
		return pdfsign.DerivedIdentity(secret)
	}
	if cfg.SigningCert == "" || cfg.SigningKey == "" {
		return nil, errors.New("--signing-cert and --signing-key go together: give both, or neither for a self-signed identity")
	}
	certPEM, err := pemOf("--signing-cert", cfg.SigningCert)
	if err != nil {
		return nil, err
	}
	keyPEM, err := pemOf("--signing-key", cfg.SigningKey)
	if err != nil {
		return nil, err
	}
	return pdfsign.LoadIdentity(certPEM, keyPEM, time.Now())
}

// pemOf is v when it is PEM itself, else the file it names.
func pemOf(flag, v string) ([]byte, error) {
	if strings.HasPrefix(strings.TrimSpace(v), "-----BEGIN") {
		return []byte(v), nil
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return nil, fmt.Errorf("%s: the file cannot be read: %w", flag, err)
	}
	return b, nil
}
