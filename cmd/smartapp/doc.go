// Command smartapp is a SMART on FHIR app for the terminal, built only on
// smartlaunch's public packages (client, client/seal, smart and
// smart/scopelint):
//
//	smartapp login   [--fhir URL] [--client-id ID] [--scope "..."] [--dpop] [--no-browser] [--timeout 5m] [--dir DIR]
//	smartapp get     [--dir DIR] 'Observation?category=laboratory'
//	smartapp whoami  [--dir DIR]
//	smartapp logout  [--dir DIR]
//	smartapp scopes lint [--max N] [--json] SCOPE...
//	smartapp help
//
// login runs a standalone launch with a loopback redirect (RFC 8252 §7.3):
// it listens on 127.0.0.1 on a free port, prints the authorize URL (and
// tries to open a browser), waits for the callback, exchanges the code
// and keeps the tokens in DIR (default $XDG_CONFIG_HOME/smartapp or
// ~/.config/smartapp), so later commands need no flags.
//
// Secrets at rest — the tokens and the DPoP private key — are sealed
// with client/seal: with a key in the OS keyring when one is reachable,
// or else with a passphrase taken from $SMARTAPP_PASSPHRASE or typed at
// the terminal.
//
// Exit codes: 0 success; 1 failure (including scopes lint warnings);
// 2 bad usage; 3 the authorization has ended (revoked, expired or logged
// out): run smartapp login again.
package main
