//go:build cgo

package pkcs11

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	p11 "github.com/miekg/pkcs11"
)

// modules holds the PKCS#11 libraries this process has loaded. A PKCS#11
// library's state is process-wide (C_Initialize succeeds once per process
// until C_Finalize), so one loaded library is shared by every Signer that
// names it and finalized when the last one is done with it. This is the
// package's only mutable global, and it mirrors one the C library has.
var modules = struct {
	sync.Mutex
	m map[string]*module
}{m: map[string]*module{}}

// module is one loaded and initialized PKCS#11 library.
type module struct {
	path string
	ctx  *p11.Ctx
	refs int
	// initialized is whether this package called C_Initialize, and so
	// must call C_Finalize: another library in the process may have
	// initialized the module first.
	initialized bool
}

// acquire loads and initializes the module at path, or shares the one
// already loaded; each acquire is paired with a release.
func acquire(path string) (*module, error) {
	if path == "" {
		return nil, errors.New("pkcs11: Config.Module must name the PKCS#11 library")
	}
	modules.Lock()
	defer modules.Unlock()
	if m, ok := modules.m[path]; ok {
		m.refs++
		return m, nil
	}
	ctx := p11.New(path)
	if ctx == nil {
		return nil, fmt.Errorf("pkcs11: cannot load module %s", path)
	}
	m := &module{path: path, ctx: ctx, refs: 1, initialized: true}
	if err := ctx.Initialize(); errors.Is(err, p11.Error(p11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
		m.initialized = false
	} else if err != nil {
		ctx.Destroy()
		return nil, fmt.Errorf("pkcs11: initialize %s: %w", path, err)
	}
	modules.m[path] = m
	return m, nil
}

// release gives back one acquire; the last one finalizes and unloads.
func (m *module) release() error {
	modules.Lock()
	defer modules.Unlock()
	m.refs--
	if m.refs > 0 {
		return nil
	}
	delete(modules.m, m.path)
	var err error
	if m.initialized {
		err = m.ctx.Finalize()
	}
	m.ctx.Destroy()
	if err != nil {
		return fmt.Errorf("pkcs11: finalize %s: %w", m.path, err)
	}
	return nil
}

// slot finds the slot holding the token labelled label, or the only token
// when label is empty.
func (m *module) slot(label string) (uint, error) {
	slots, err := m.ctx.GetSlotList(true)
	if err != nil {
		return 0, fmt.Errorf("pkcs11: list slots: %w", err)
	}
	var found []uint
	for _, id := range slots {
		ti, err := m.ctx.GetTokenInfo(id)
		if err != nil {
			continue
		}
		if label == "" || strings.TrimRight(ti.Label, " \x00") == label {
			found = append(found, id)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case label == "" && len(found) > 1:
		return 0, fmt.Errorf("pkcs11: %d tokens in %s; set Config.TokenLabel", len(found), m.path)
	case len(found) > 1:
		return 0, fmt.Errorf("pkcs11: %d tokens labelled %q in %s", len(found), label, m.path)
	default:
		return 0, fmt.Errorf("pkcs11: no token labelled %q in %s", label, m.path)
	}
}

// session opens a session on slot and logs the user in with pin (unless
// it is empty). Login state is per token for the whole process, so a user
// already logged in by another session is fine.
func (m *module) session(slot uint, pin string, readWrite bool) (p11.SessionHandle, error) {
	flags := uint(p11.CKF_SERIAL_SESSION)
	if readWrite {
		flags |= p11.CKF_RW_SESSION
	}
	sh, err := m.ctx.OpenSession(slot, flags)
	if err != nil {
		return 0, fmt.Errorf("pkcs11: open session: %w", err)
	}
	if pin == "" {
		return sh, nil
	}
	if err := m.ctx.Login(sh, p11.CKU_USER, pin); err != nil && !errors.Is(err, p11.Error(p11.CKR_USER_ALREADY_LOGGED_IN)) {
		_ = m.ctx.CloseSession(sh)
		return 0, fmt.Errorf("pkcs11: log in to token: %w", err)
	}
	return sh, nil
}

// find returns the handles of the objects of class that cfg's key label
// and id select, at most limit of them.
func (m *module) find(sh p11.SessionHandle, class uint, cfg Config, limit int) ([]p11.ObjectHandle, error) {
	tmpl := []*p11.Attribute{p11.NewAttribute(p11.CKA_CLASS, class)}
	if cfg.KeyLabel != "" {
		tmpl = append(tmpl, p11.NewAttribute(p11.CKA_LABEL, cfg.KeyLabel))
	}
	if len(cfg.KeyID) > 0 {
		tmpl = append(tmpl, p11.NewAttribute(p11.CKA_ID, cfg.KeyID))
	}
	if err := m.ctx.FindObjectsInit(sh, tmpl); err != nil {
		return nil, fmt.Errorf("pkcs11: find objects: %w", err)
	}
	objs, _, err := m.ctx.FindObjects(sh, limit)
	if ferr := m.ctx.FindObjectsFinal(sh); err == nil {
		err = ferr
	}
	if err != nil {
		return nil, fmt.Errorf("pkcs11: find objects: %w", err)
	}
	return objs, nil
}

// findOne returns the one object of class that cfg selects.
func (m *module) findOne(sh p11.SessionHandle, class uint, what string, cfg Config) (p11.ObjectHandle, error) {
	objs, err := m.find(sh, class, cfg, 2)
	if err != nil {
		return 0, err
	}
	switch len(objs) {
	case 1:
		return objs[0], nil
	case 0:
		return 0, fmt.Errorf("pkcs11: no %s with %s", what, cfg.keyName())
	default:
		return 0, fmt.Errorf("pkcs11: several %ss with %s; set both KeyLabel and KeyID", what, cfg.keyName())
	}
}

// attrs reads attributes of o, in the order of types.
func (m *module) attrs(sh p11.SessionHandle, o p11.ObjectHandle, types ...uint) ([][]byte, error) {
	tmpl := make([]*p11.Attribute, len(types))
	for i, t := range types {
		tmpl[i] = p11.NewAttribute(t, nil)
	}
	got, err := m.ctx.GetAttributeValue(sh, o, tmpl)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(types))
	for _, a := range got {
		for i, t := range types {
			if a.Type == t {
				out[i] = a.Value
			}
		}
	}
	return out, nil
}
