package consent

import "net/http"

// The sign-in form is checked by Config.SignIn (signin.Guard): a limited
// attempt is answered 429 with Retry-After before the password is looked
// at, and is not counted. The client address is ratelimit.Client's: the
// peer, or the address a trusted proxy names.

var errTooManySignIns = &errPage{status: http.StatusTooManyRequests,
	msg: "There have been too many failed sign-ins. Wait a few minutes, then try again."}
