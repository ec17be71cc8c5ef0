package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/password"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

var fhirRef = regexp.MustCompile(`^(Patient|Practitioner|PractitionerRole|RelatedPerson|Person)/[A-Za-z0-9\-.]{1,64}$`)

func userAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", defaultData, "data directory")
	username := fs.String("username", "", "sign-in name")
	name := fs.String("name", "", "display name")
	fhirUser := fs.String("fhir-user", "", "the user's own FHIR resource, such as Patient/123 or Practitioner/abc")
	all := fs.Bool("all-patients", false, "may act for every patient (a clinician)")
	email := fs.String("email", "", "where reminder digests go (optional)")
	lang := fs.String("lang", "", "the user's language for emails, such as es (default English)")
	var patients stringsFlag
	fs.Var(&patients, "patient", "a Patient id the user may act for (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *username == "" {
		return errors.New("user add: --username is required")
	}
	if *fhirUser != "" && !fhirRef.MatchString(*fhirUser) {
		return fmt.Errorf("user add: --fhir-user %q is not a reference like Patient/123", *fhirUser)
	}
	if strings.HasPrefix(*fhirUser, "Patient/") && len(patients) == 0 {
		patients = append(patients, strings.TrimPrefix(*fhirUser, "Patient/"))
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("user add: read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if len(pw) < 8 {
		return errors.New("user add: the password (read from standard input) must have at least 8 characters")
	}
	h, err := password.Hash(pw)
	if err != nil {
		return err
	}
	u := store.User{
		ID: "user-" + randomString(9), Username: *username, PasswordHash: h, DisplayName: *name,
		FHIRUser: *fhirUser, Patients: patients, AllPatients: *all, CreatedAt: time.Now(), Email: *email, Language: *lang,
	}
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.CreateUser(ctx, u); err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	return json.NewEncoder(stdout).Encode(map[string]string{"id": u.ID, "username": u.Username})
}
