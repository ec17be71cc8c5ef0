package keys

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// Defaults of Options.
const (
	// DefaultRotateEvery is the rotation period serve uses unless told
	// otherwise (Options itself defaults to no scheduled rotation).
	DefaultRotateEvery = 90 * 24 * time.Hour
	// DefaultPublishAhead is long enough for relying parties that cache
	// the JWK Set for a day to fetch the next key before it signs.
	DefaultPublishAhead = 24 * time.Hour
	// DefaultMaxTokenLifetime is the access-token lifetime oauth defaults to.
	DefaultMaxTokenLifetime = time.Hour
	// RetirementMargin is added to the tokens' lifetime before a key
	// retires: room for clocks that differ between this server and the
	// relying parties, and for instances that switch keys a janitor
	// interval late after "keys rotate --now".
	RetirementMargin = 5 * time.Minute
)

// Options are a Set's clock and key policy.
type Options struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
	// RotateEvery is how long a key signs before the next one replaces
	// it (Maintain publishes the next one PublishAhead before); zero
	// turns scheduled rotation off.
	RotateEvery time.Duration
	// PublishAhead is how long a scheduled key is published before it
	// signs; default DefaultPublishAhead.
	PublishAhead time.Duration
	// MaxTokenLifetime is the longest lifetime of any token the Set signs
	// (access tokens and id_tokens): a key that stopped signing verifies,
	// and stays published, this long plus RetirementMargin; default
	// DefaultMaxTokenLifetime.
	MaxTokenLifetime time.Duration
	// Encryption, when set, encrypts private keys at rest; nil stores
	// them in the clear.
	Encryption *Encryption
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PublishAhead <= 0 {
		o.PublishAhead = DefaultPublishAhead
	}
	if o.MaxTokenLifetime <= 0 {
		o.MaxTokenLifetime = DefaultMaxTokenLifetime
	}
	return o
}

// State is where a key is in its life at some instant.
type State string

// The states of a key, in the order a key goes through them.
const (
	// StateNext: published, not yet signing (until its ActivatesAt).
	StateNext State = "next"
	// StateSigning: the key of its algorithm that signs new tokens.
	StateSigning State = "signing"
	// StateRetiring: a newer key signs; this one still verifies and is
	// published until RetiresAt (zero until a server has recorded it).
	StateRetiring State = "retiring"
	// StateRetired: every token the key signed has expired; it is neither
	// published nor trusted, and stays in the store only as the source of
	// DeriveSecret and for the record.
	StateRetired State = "retired"
)

// Status is a stored key's place in the schedule at some instant.
type Status struct {
	ID        string
	Algorithm string
	CreatedAt time.Time
	// ActivatesAt is when the key signs from (its CreatedAt for keys
	// stored without one).
	ActivatesAt time.Time
	// SupersededAt is when the next key of its algorithm activates,
	// ending this one's signing; zero when there is none yet.
	SupersededAt time.Time
	// RetiresAt is as stored: zero until recorded.
	RetiresAt time.Time
	State     State
	// Withdrawn reports a key that retires before it ever signs: a next
	// key that "keys rotate --now" replaced. It is retired at all times.
	Withdrawn bool
	// Encrypted reports whether the private key is encrypted at rest.
	Encrypted bool
}

// Describe returns the status at now of each of stored, in the same order.
// Of each algorithm, keys take turns in the order they activate (ties by
// creation, then ID): the last to have activated signs, those after it are
// next, those before it are retiring or, past their RetiresAt, retired.
// Withdrawn keys (a RetiresAt not after the activation) take no turn.
func Describe(stored []store.SigningKey, now time.Time) []Status {
	out := make([]Status, len(stored))
	for i, k := range stored {
		out[i] = Status{ID: k.ID, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt, ActivatesAt: k.ActivatesAt,
			RetiresAt: k.RetiresAt, Encrypted: isSealed(k.PrivateKey)}
		if out[i].ActivatesAt.IsZero() {
			out[i].ActivatesAt = k.CreatedAt
		}
		out[i].Withdrawn = !k.RetiresAt.IsZero() && !k.RetiresAt.After(out[i].ActivatesAt)
	}
	byAlg := map[string][]*Status{}
	for _, st := range activationOrder(out) {
		if st.Withdrawn {
			st.State = StateRetired
			continue
		}
		byAlg[st.Algorithm] = append(byAlg[st.Algorithm], st)
	}
	for _, ks := range byAlg {
		signing := 0
		for i, st := range ks {
			if !st.ActivatesAt.After(now) {
				signing = i
			}
		}
		for i, st := range ks {
			if i+1 < len(ks) {
				st.SupersededAt = ks[i+1].ActivatesAt
			}
			switch {
			case i == signing:
				st.State = StateSigning
			case i > signing:
				st.State = StateNext
			case !st.RetiresAt.IsZero() && !now.Before(st.RetiresAt):
				st.State = StateRetired
			default:
				st.State = StateRetiring
			}
		}
	}
	return out
}

// activationOrder returns pointers to sts in the order their keys
// activate: by ActivatesAt, then CreatedAt, then ID.
func activationOrder(sts []Status) []*Status {
	ps := make([]*Status, len(sts))
	for i := range sts {
		ps[i] = &sts[i]
	}
	slices.SortStableFunc(ps, func(a, b *Status) int {
		return cmp.Or(a.ActivatesAt.Compare(b.ActivatesAt), a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return ps
}

// retirement is when the key of st retires by the schedule: when its
// successor activates, plus MaxTokenLifetime and RetirementMargin; zero
// while it has no successor.
func (o Options) retirement(st Status) time.Time {
	if st.SupersededAt.IsZero() {
		return time.Time{}
	}
	return st.SupersededAt.Add(o.MaxTokenLifetime + RetirementMargin)
}

// Maintain runs the key schedule once, as the janitor of every instance
// does: it records when each superseded key retires (see retirement),
// bringing a recorded retirement forward when a key took over earlier
// ("keys rotate --now"); with a secret, encrypts keys still stored in the
// clear; with RotateEvery set, creates and publishes the next key of each
// algorithm PublishAhead before its signing key has signed for
// RotateEvery (of instances doing this at once, one creates it:
// store.Keys.CreateNextKey); and reloads. It returns the IDs of the keys
// it created. Keys it cannot open stop it before it writes anything.
func (s *Set) Maintain(ctx context.Context) ([]string, error) {
	prev := s.ring.Load()
	stored, err := s.st.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: list: %w", err)
	}
	r, err := s.newRing(stored, prev)
	if err != nil {
		return nil, err
	}
	now := s.opts.Now()
	changed := false
	for _, st := range Describe(stored, now) {
		at := s.opts.retirement(st)
		if st.State == StateRetired || at.IsZero() || (!st.RetiresAt.IsZero() && !at.Before(st.RetiresAt)) {
			continue
		}
		if err := s.st.SetKeyRetirement(ctx, st.ID, at); err != nil {
			return nil, fmt.Errorf("keys: record when key %s retires: %w", st.ID, err)
		}
		changed = true
	}
	sealed, err := s.encryptStored(ctx, stored)
	if err != nil {
		return nil, err
	}
	created, raced, err := s.rotateIfDue(ctx, stored, now)
	if err != nil {
		return created, err
	}
	if changed || sealed || len(created) > 0 || raced {
		return created, s.Reload(ctx)
	}
	return nil, s.publish(ctx, prev, r)
}

// publish makes r, read while prev was the Set's reading, the Set's
// reading; unless a reload stored another one meanwhile (which may have
// read the store before or after r did): then it reads the keys again, so
// that the Set never goes back to an older reading.
func (s *Set) publish(ctx context.Context, prev, r *ring) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ring.CompareAndSwap(prev, r) {
		return nil
	}
	return s.reloadLocked(ctx)
}

// rotateIfDue creates the next key of each algorithm whose signing key is
// due for replacement and has no next key yet, and reports whether another
// instance created one first.
func (s *Set) rotateIfDue(ctx context.Context, stored []store.SigningKey, now time.Time) (created []string, raced bool, err error) {
	if s.opts.RotateEvery <= 0 {
		return nil, false, nil
	}
	for _, alg := range algorithms {
		signing, hasNext := schedule(stored, alg, now)
		if signing == nil || hasNext || now.Before(signing.ActivatesAt.Add(s.opts.RotateEvery-s.opts.PublishAhead)) {
			continue
		}
		// Published at least PublishAhead before it signs, even when the
		// schedule was missed (the servers were down).
		activates := signing.ActivatesAt.Add(s.opts.RotateEvery)
		if earliest := now.Add(s.opts.PublishAhead); activates.Before(earliest) {
			activates = earliest
		}
		k, err := s.generate(alg, now, activates)
		if err != nil {
			return created, raced, err
		}
		switch err := s.st.CreateNextKey(ctx, k, now); {
		case err == nil:
			created = append(created, k.ID)
		case errors.Is(err, store.ErrConflict): // another instance published one first
			raced = true
		default:
			return created, raced, fmt.Errorf("keys: store next key: %w", err)
		}
	}
	return created, raced, nil
}

// schedule returns the status of the key of alg signing at now, and
// whether a next key of alg is published.
func schedule(stored []store.SigningKey, alg jose.SignatureAlgorithm, now time.Time) (signing *Status, hasNext bool) {
	for _, st := range Describe(stored, now) {
		if st.Algorithm != string(alg) {
			continue
		}
		switch st.State {
		case StateSigning:
			signing = &st
		case StateNext:
			hasNext = true
		}
	}
	return signing, hasNext
}

// Rotate adds a key of each algorithm, as "smartlaunch keys rotate" does.
// Without immediately, each is published now and signs after PublishAhead,
// like a scheduled rotation brought forward; an algorithm that already has
// a next key keeps it and gets none.
//
// With immediately, for a key that may have leaked, the new keys sign at
// once: other instances switch within their janitor interval, and relying
// parties that cached the JWK Set fetch it again for the unknown kid. The
// next keys already published (in the same store, so leaked with it) are
// withdrawn: they retire at once, never sign, and leave the JWK Set. The
// older keys retire MaxTokenLifetime and RetirementMargin after the new
// ones took over, as every server's Maintain records (with its own token
// lifetime): tokens they signed stay valid until they expire, not longer.
// DeriveSecret is seeded by the new RSA key from then on.
//
// Keys the Set cannot open stop it before it writes anything; keys still
// in the clear are encrypted first when the Set has a secret. It returns
// the keys it created (private key bytes as stored) and reloads.
func (s *Set) Rotate(ctx context.Context, immediately bool) ([]store.SigningKey, error) {
	// Keys this Set cannot open (encrypted by another instance, or under
	// another secret) stop it before it writes a key the others cannot
	// read, or one in the clear beside encrypted ones.
	stored, err := s.st.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: list: %w", err)
	}
	if _, err := s.newRing(stored, s.ring.Load()); err != nil {
		return nil, err
	}
	if _, err := s.encryptStored(ctx, stored); err != nil {
		return nil, err
	}
	now := s.opts.Now()
	statuses := Describe(stored, now)
	var created []store.SigningKey
	for _, alg := range algorithms {
		activates := now
		if !immediately {
			activates = now.Add(s.opts.PublishAhead)
		}
		k, err := s.generate(alg, now, activates)
		if err != nil {
			return created, err
		}
		if !immediately {
			switch err := s.st.CreateNextKey(ctx, k, now); {
			case err == nil:
				created = append(created, k)
			case errors.Is(err, store.ErrConflict): // a next key is already published
			default:
				return created, fmt.Errorf("keys: store new key: %w", err)
			}
			continue
		}
		if err := s.st.CreateKey(ctx, k); err != nil {
			return created, fmt.Errorf("keys: store new key: %w", err)
		}
		created = append(created, k)
		// Only once the new key is stored: a withdrawn next key must not
		// leave the signing key without a successor.
		for _, st := range statuses {
			if st.Algorithm != string(alg) || st.State != StateNext {
				continue
			}
			if err := s.st.SetKeyRetirement(ctx, st.ID, now); err != nil {
				return created, fmt.Errorf("keys: withdraw next key %s: %w", st.ID, err)
			}
		}
	}
	return created, s.Reload(ctx)
}
