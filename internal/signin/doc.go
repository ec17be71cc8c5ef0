// Package signin checks the passwords typed into smartlaunch's sign-in
// forms — the authorization sign-in, the connected-apps pages and the EHR
// simulator — in one way: under the shared failure limits
// (ratelimit.SignIn), taking as long for an unknown user name as for a
// wrong password, and recording every attempt in the audit trail.
//
// It is imported by the feature packages that serve those forms; it
// imports internal/{audit,password,ratelimit,store}.
package signin
