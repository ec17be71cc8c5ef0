package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/keys"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// keyEncryptionEnv holds the key-encryption secret when no file is named.
const keyEncryptionEnv = "SMARTLAUNCH_KEY_ENCRYPTION_KEY"

// keyFlags are serve's signing-key flags.
type keyFlags struct {
	rotateEvery, publishAhead *time.Duration
	encryptionKeyFile         *string
}

func addKeyFlags(fs *flag.FlagSet) keyFlags {
	return keyFlags{
		rotateEvery: fs.Duration("key-rotation-every", keys.DefaultRotateEvery,
			"how long a signing key signs before the next one replaces it (published --key-publish-ahead before); 0 turns scheduled rotation off"),
		publishAhead: fs.Duration("key-publish-ahead", keys.DefaultPublishAhead,
			"how long a new signing key is published in the JWKS before it signs"),
		encryptionKeyFile: addKeyEncryptionFlag(fs),
	}
}

func addKeyEncryptionFlag(fs *flag.FlagSet) *string {
	return fs.String("key-encryption-key-file", "", fmt.Sprintf(
		"file holding the secret (random, at least %d bytes) that encrypts the private signing keys at rest; also $%s",
		keys.MinSecretLength, keyEncryptionEnv))
}

// options checks the flags and returns the key policy they give, with the
// key-encryption secret read.
func (f keyFlags) options() (keys.Options, error) {
	switch {
	case *f.rotateEvery < 0:
		return keys.Options{}, errors.New("serve: --key-rotation-every must not be negative (0 turns scheduled rotation off)")
	case *f.publishAhead < time.Second:
		return keys.Options{}, errors.New("serve: --key-publish-ahead must be at least 1s")
	case *f.rotateEvery > 0 && *f.publishAhead >= *f.rotateEvery:
		return keys.Options{}, errors.New("serve: --key-publish-ahead must be shorter than --key-rotation-every")
	}
	enc, err := keyEncryption(*f.encryptionKeyFile)
	if err != nil {
		return keys.Options{}, fmt.Errorf("serve: %w", err)
	}
	return keys.Options{RotateEvery: *f.rotateEvery, PublishAhead: *f.publishAhead, Encryption: enc}, nil
}

// keyEncryption reads the key-encryption secret from file, or else from
// $SMARTLAUNCH_KEY_ENCRYPTION_KEY; nil when neither names one.
func keyEncryption(file string) (*keys.Encryption, error) {
	s, err := secret(file, keyEncryptionEnv, "--key-encryption-key-file")
	if err != nil {
		return nil, err
	}
	if s == "" {
		if file != "" {
			return nil, fmt.Errorf("--key-encryption-key-file %s: empty", file)
		}
		return nil, nil
	}
	e, err := keys.NewEncryption([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("--key-encryption-key-file or $%s: %w", keyEncryptionEnv, err)
	}
	return e, nil
}

// keysList prints the signing keys, oldest first, each with its state:
// next (published, signs from SIGNS-FROM), signing, retiring (published
// and verifying until VERIFIES-UNTIL, once a server has recorded it) or
// retired (SIGNS-FROM "never" for a next key withdrawn by "keys rotate
// --now"); and whether it is encrypted at rest. It needs no secret: it
// reads no private key.
func keysList(ctx context.Context, args []string, _ io.Reader, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("keys list", flag.ContinueOnError)
	data := fs.String("data", defaultData, "data directory (SQLite store; PostgreSQL: $SMARTLAUNCH_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	ks, err := st.ListKeys(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KID\tALGORITHM\tSTATE\tSIGNS-FROM\tVERIFIES-UNTIL\tAT-REST")
	for _, k := range keys.Describe(ks, time.Now()) {
		until := "-"
		switch {
		case !k.RetiresAt.IsZero():
			until = stamp(k.RetiresAt)
		case k.State == keys.StateRetiring:
			until = "(not yet recorded)"
		}
		atRest := "plaintext"
		if k.Encrypted {
			atRest = "encrypted"
		}
		from := stamp(k.ActivatesAt)
		if k.Withdrawn {
			from = "never"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.State, from, until, atRest)
	}
	return w.Flush()
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// keysRotate adds a signing key of each algorithm. By default each is
// published at once and signs after --publish-ahead, as a scheduled
// rotation brought forward (an algorithm with a next key already
// published gets none); with --now the new keys sign at once, for a key
// that may have leaked (keys.Set.Rotate): next keys already published are
// withdrawn, and the old keys retire once the tokens they signed have
// expired. Running servers sign with the new keys within their janitor's
// interval (10 s) and verify them at once; tokens signed with the old
// keys stay valid until they expire. With a key-encryption secret
// configured on the servers, give it here too: it is checked against the
// stored keys, and the new keys are stored encrypted.
func keysRotate(ctx context.Context, args []string, _ io.Reader, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	data := fs.String("data", defaultData, "data directory (SQLite store; PostgreSQL: $SMARTLAUNCH_DATABASE_URL)")
	now := fs.Bool("now", false, "sign with the new keys at once (after a leak) instead of after --publish-ahead")
	ahead := fs.Duration("publish-ahead", keys.DefaultPublishAhead, "how long the new keys are published before they sign (without --now)")
	kekFile := addKeyEncryptionFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ahead < time.Second {
		return errors.New("keys rotate: --publish-ahead must be at least 1s")
	}
	enc, err := keyEncryption(*kekFile)
	if err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	set, err := keys.Open(ctx, st, keys.Options{PublishAhead: *ahead, Encryption: enc})
	if err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	created, err := set.Rotate(ctx, *now)
	if len(created) > 0 {
		ids := make([]string, len(created))
		for i, k := range created {
			ids[i] = k.ID
			fmt.Fprintf(stdout, "new %s key %s: published now, signs from %s\n", k.Algorithm, k.ID, stamp(k.ActivatesAt))
		}
		recordAudit(ctx, st, store.AuditEvent{Type: audit.KeysRotated, Detail: strings.Join(ids, " ")})
	}
	if err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	if *now {
		fmt.Fprintln(stdout, "next keys published before are withdrawn: they never sign; the old keys retire the servers' --access-token-ttl plus 5 min from now")
		fmt.Fprintln(stdout, "restart every server: the cookie, DPoP-nonce and paging-link secrets are derived from the new RSA key at start")
	} else if len(created) < 2 {
		fmt.Fprintln(stdout, "an algorithm with a next key already published keeps it (see \"smartlaunch keys list\"; --now adds one that signs at once)")
	}
	fmt.Fprintln(stdout, "running servers publish the new keys within 10 s; tokens signed with the old keys stay valid until they expire")
	return nil
}
