package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/smartlaunch/smartlaunch/internal/config"
)

// writeConfig writes a configuration file into a fresh directory.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "smartlaunch.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigCheck(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		wantOut []string // lines printed, each after the file's path
		wantErr bool
	}{
		{"good", "version: 1\nserver:\n  base_url: https://smart.example.org\ntls:\n  behind_tls_proxy: true\nproduction: true\n",
			[]string{"ok"}, false},
		{"bad", "server:\n  adress: :80\ntokens:\n  access_token_ttl: forever\nmigrate: never\n", []string{
			"line 2: unknown key adress",
			"line 4: cannot unmarshal !!str `forever` into a duration (such as 90s, 12h)",
			"version: missing (want version: 1)",
			`migrate: "never" is not auto or off`,
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.file)
			var out bytes.Buffer
			err := run(context.Background(), []string{"config", "check", path}, nil, &out, io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("config check: err = %v, want error %v", err, tt.wantErr)
			}
			var want strings.Builder
			for _, l := range tt.wantOut {
				if tt.wantErr {
					want.WriteString(path + ": ")
				}
				want.WriteString(l + "\n")
			}
			if out.String() != want.String() {
				t.Errorf("config check printed\n%s\nwant\n%s", out.String(), want.String())
			}
		})
	}
	for _, args := range [][]string{{"config", "check"}, {"config", "check", filepath.Join(t.TempDir(), "none.yaml")}} {
		if err := run(context.Background(), args, nil, io.Discard, io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// TestServeConfig: the file's settings apply; flags on the command line
// (startServe's --data, --base-url here) override them.
func TestServeConfig(t *testing.T) {
	t.Setenv("SMARTLAUNCH_REGISTRATION_TOKEN", "") // restored after the test
	t.Setenv("MY_REGISTRATION_TOKEN", strings.Repeat("r", 32))
	fileData := filepath.Join(t.TempDir(), "from-file")
	path := writeConfig(t, `version: 1
server:
  base_url: https://from-file.example.org
data:
  dir: `+fileData+`
registration:
  token_env: MY_REGISTRATION_TOKEN
`)
	t.Run("file", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		base, stop := startServe(t, data, "--config", path)
		defer stop()
		conf := getJSON(t, base+"/fhir/.well-known/smart-configuration")
		if got, want := conf["authorization_endpoint"], "https://from-file.example.org/authorize"; got != want {
			t.Errorf("authorization_endpoint = %v, want %s", got, want)
		}
		if got, want := conf["registration_endpoint"], "https://from-file.example.org/register"; got != want {
			t.Errorf("registration_endpoint = %v, want %s (token from $MY_REGISTRATION_TOKEN)", got, want)
		}
		if _, err := os.Stat(filepath.Join(data, "smartlaunch.db")); err != nil {
			t.Errorf("--data on the command line not used: %v", err)
		}
		if _, err := os.Stat(fileData); err == nil {
			t.Errorf("data.dir of the file used although --data was given")
		}
	})
	t.Run("flag overrides file", func(t *testing.T) {
		base, stop := startServe(t, filepath.Join(t.TempDir(), "data"), "--config", path, "--base-url", "https://from-flag.example.org")
		defer stop()
		conf := getJSON(t, base+"/fhir/.well-known/smart-configuration")
		if got, want := conf["authorization_endpoint"], "https://from-flag.example.org/authorize"; got != want {
			t.Errorf("authorization_endpoint = %v, want %s", got, want)
		}
	})
	t.Run("bad file", func(t *testing.T) {
		bad := writeConfig(t, "version: 1\ncolour: blue\n")
		err := run(context.Background(), []string{"serve", "--config", bad, "--addr", "127.0.0.1:0"}, nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "line 2: unknown key colour") {
			t.Errorf("serve --config with an unknown key: %v", err)
		}
	})
}

// TestConfigDefaultsAreFlagDefaults: config.Defaults is the zero-config
// demo only while it matches serve's flag defaults, read here from
// "serve -h".
func TestConfigDefaultsAreFlagDefaults(t *testing.T) {
	var help bytes.Buffer
	_ = run(context.Background(), []string{"serve", "-h"}, nil, io.Discard, &help)
	defaults := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^  -(\S+)(?: \S+)?\n\s+.*?(?:\(default (.*)\))?$`).FindAllStringSubmatch(help.String(), -1) {
		v := m[2]
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		}
		defaults[m[1]] = v
	}
	defaults["base-url"] = "" // "(default http://ADDR)" is prose: the flag's value is empty
	if len(defaults) < 30 {
		t.Fatalf("read %d flags from serve -h:\n%s", len(defaults), help.String())
	}
	for _, c := range configFlags() {
		want, ok := defaults[c.flag]
		if !ok {
			t.Errorf("configuration maps to --%s, which serve does not have", c.flag)
			continue
		}
		got := c.value(config.Defaults())
		if got == "false" || got == "0" {
			got = "" // serve -h prints no default for a zero value
		}
		if got != want {
			t.Errorf("--%s: config.Defaults gives %q, the flag's default is %q", c.flag, got, want)
		}
	}
}
