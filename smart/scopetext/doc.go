// Package scopetext says SMART scopes in plain, jargon-free language for
// the people who approve them: a one-line Short text and a Long text of at
// most two sentences, in English, Spanish, French and German, with English
// as the fallback.
//
// It owns the plain-language catalogs (embedded JSON files under
// catalogs/, parsed once by New), the choice of a language from an
// Accept-Language header (golang.org/x/text/language matching), the
// decision whether a query-based scope can be said in one plain sentence
// (Text.Explainable), and the list of scopes the server advertises
// (SupportedScopes). The grammar of scopes belongs to package smart; this
// package only renders what smart.ParseScope understands.
//
// The consent page, the discovery document and the command-line tool use
// it; anyone may import it. It depends on package smart and
// golang.org/x/text only and never imports smartlaunch's internal packages.
//
// # Writing catalog text
//
// Every resource type has a plural noun phrase with no article, such as
// "visits and hospital stays", so that templates can put a possessive or
// article before it ("your", "sus", "vos", "Ihre"). German names avoid a
// leading adjective, whose ending would change after "Ihre". A part of a
// name in square brackets, as in "samples[ such as blood and tissue]", is
// shown in Long texts and ResourceName only, which keeps every Short text
// within the catalog's max_short characters. No text names
// a FHIR type (such as "DocumentReference"), says "FHIR" or "resource";
// the package tests enforce these rules, one line per Short text and at
// most two sentences per Long text, in every language.
package scopetext
