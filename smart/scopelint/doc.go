// Package scopelint helps SMART app makers request the fewest, clearest
// scopes (SMART App Launch 2.1 §4, R-SCOPE-10, R-SCOPE-21, R-SCOPE-23).
// Lint reads a scope request, reports what a person approving it would
// find broad, repetitive or hard to understand, and suggests an equivalent
// smaller request.
//
// It owns the lint rules, the kinds of finding they report and the
// suggestion. The scope grammar belongs to package smart and the plain
// words to package smart/scopetext; this package depends on those two and
// the standard library only, never on smartlaunch's internal packages, so
// anyone may import it. The "smartlaunch scopes lint" command prints its
// result.
//
// # Kinds of finding
//
// Kind is a fixed, machine-readable word; Message says the same thing for
// a person. Severity is fixed per rule, as listed:
//
//	malformed            warning  not valid scope syntax (R-SCOPE-06, R-SCOPE-08): the server refuses or ignores it
//	unknown              warning  well-formed but neither a SMART scope nor an extension scope
//	                              (one starting with "__" or an absolute URI, R-EXT-01)
//	redundant            warning  asked for twice, written twice (v1 and v2 spellings of the same
//	                              scope), or already granted by another requested scope
//	mergeable            info     scopes of one context, type and query whose letters can be
//	                              written as one scope (R-SCOPE-10); kept apart, they let the
//	                              user allow one and not the other
//	v1-form              info     a SMART v1 suffix (.read, .write, .*) with a v2 equivalent (R-SCOPE-07)
//	broader-than-needed  warning  a "*" type (every kind of data, including kinds added later,
//	                              R-SCOPE-21); user/ or system/ scopes for types a patient/
//	                              scope of the request already names
//	broader-than-needed  info     every letter, cruds, on one type
//	write                info     letters c, u or d on patient/ or user/ scopes: the user is asked to allow changes
//	unexplainable        warning  a resource scope the consent screen cannot say in one plain sentence
//	                              (package scopetext's Explainable is false); the message quotes the
//	                              warning people will see
//	unexplainable        info     an extension scope, which the consent screen shows as written
//	too-many             warning  more resource scopes than Options.MaxScopes after the suggestion's merging
//
// # The suggestion
//
// Result.Suggested grants exactly what the request grants (for every
// context, resource type, permission and query, the suggestion allows it
// if and only if the request does), in canonical v2 form: duplicates and
// covered scopes dropped, and the letters of one context, type and query
// merged. It never adds a "*" type the request did not have, never merges
// a query-restricted scope into an unrestricted one or scopes with
// different queries, and leaves out malformed and unknown scopes, which
// the server does not grant anyway. SMART's other scopes (openid,
// launch/patient, ...) and extension scopes are kept as written.
package scopelint
