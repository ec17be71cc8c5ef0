// Package deploy holds no code: its tests keep the deployment files (the
// Dockerfile, deploy/systemd, deploy/kubernetes) and docs/operations.md
// true to the smartlaunch binary: every command and flag they name must
// exist, and the settings they promise (non-root, read-only root, TLS or a
// TLS proxy in production) must be there.
package deploy
