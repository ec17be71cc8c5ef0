// Package consent owns the pages a person sees during an authorization:
// sign-in, the patient picker and the consent question. It works on the
// stored store.AuthRequest that the oauth package created and, once the
// person has answered, sends the browser back to the oauth package's
// continue URL. It never issues codes or tokens itself.
//
// Each step after sign-in must come from the browser that signed in: a
// short-lived cookie carries an HMAC of the request and the user, so a
// leaked request id cannot be completed by someone else.
//
// It is imported by internal/server only.
package consent
