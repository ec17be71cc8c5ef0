// Package smart holds the vocabulary of the SMART App Launch 2.1
// implementation guide: the scope grammar (SMART v1 and v2), launch context
// names, the smart-configuration document, and OAuth error codes.
//
// It is public, depends only on the standard library, and never imports
// smartlaunch's internal packages, so app developers may use it directly.
package smart
