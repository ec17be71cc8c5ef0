// Package consentdocs serves smartlaunch's published consent design
// documentation (issue 7): the page /docs/consent that shows app makers
// what people see when an app asks for access, the screenshots under
// /docs/screenshots/, the complete scope description metadata as JSON at
// /docs/consent/scopes.json and its JSON Schema at
// /docs/consent/scopes.schema.json.
//
// Every text on the page and in the metadata comes from package
// scopetext, the catalog the consent page and the discovery document use,
// rendered once at start-up, so consent, discovery and documentation
// never disagree. The assets (page template, style sheet, schema,
// screenshots) are embedded by the root package docs.
//
// Only internal/server imports this package. It imports docs, sampledata
// (the patient compartment's resource types), smart, smart/scopetext and
// internal/web, and no other feature package.
package consentdocs
