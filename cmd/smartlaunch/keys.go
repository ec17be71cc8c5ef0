package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/keys"
)

// keysList prints the signing keys, oldest first; the newest of each
// algorithm signs, all verify.
func keysList(ctx context.Context, args []string, _ io.Reader, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("keys list", flag.ContinueOnError)
	data := fs.String("data", defaultData, "data directory (SQLite store; PostgreSQL: $SMARTLAUNCH_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	ks, err := st.ListKeys(ctx)
	if err != nil {
		return err
	}
	current := map[string]string{}
	for _, k := range ks {
		current[k.Algorithm] = k.ID
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KID\tALGORITHM\tCREATED\tSIGNS")
	for _, k := range ks {
		signs := ""
		if current[k.Algorithm] == k.ID {
			signs = "yes"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.CreatedAt.UTC().Format(time.RFC3339), signs)
	}
	return w.Flush()
}

// keysRotate stores a new signing key of each algorithm. Running servers
// sign with them within their janitor's interval (10 s) and verify them at
// once; tokens signed with the old keys stay valid until they expire.
func keysRotate(ctx context.Context, args []string, _ io.Reader, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	data := fs.String("data", defaultData, "data directory (SQLite store; PostgreSQL: $SMARTLAUNCH_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := keys.Rotate(ctx, st, time.Now()); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "new signing keys stored; running servers sign with them within 10 s, and the old keys keep verifying")
	return nil
}
