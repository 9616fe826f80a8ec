package release

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// repoRoot is where scripts/ and release/ live, relative to this package.
const repoRoot = "../.."

type installRun struct {
	code   int
	output string
	env    string // what the script appended to GITHUB_ENV
	bin    string // BRICKCI_DEST
}

// runInstall runs scripts/install.sh against a local release directory
// and checksum table.
func runInstall(t *testing.T, ref, install, table string, actionPath string) installRun {
	t.Helper()
	return runInstallIn(t, t.TempDir(), ref, install, table, actionPath)
}

// runInstallIn is runInstall in a given directory, so a second run sees
// what the first installed.
func runInstallIn(t *testing.T, dir, ref, install, table string, actionPath string) installRun {
	t.Helper()
	releases := filepath.Join(dir, "releases")
	if err := os.MkdirAll(filepath.Join(releases, "v9.9.9"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(releases, "v9.9.9", "brickci_linux_amd64"), []byte(fakeBinary), 0o755); err != nil {
		t.Fatal(err)
	}
	tablePath := filepath.Join(dir, "checksums.txt")
	if err := os.WriteFile(tablePath, []byte(table), 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "bin")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	ghEnv := filepath.Join(dir, "github_env")
	abs, err := filepath.Abs(filepath.Join(repoRoot, "scripts", "install.sh"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", abs)
	cmd.Env = append(os.Environ(),
		"BRICKCI_REF="+ref,
		"INSTALL="+install,
		"RUNNER_OS=Linux",
		"RUNNER_ARCH=X64",
		"ACTION_PATH="+actionPath,
		"BRICKCI_DEST="+dest,
		"BRICKCI_RELEASE_BASE_URL=file://"+releases,
		"BRICKCI_CHECKSUMS="+tablePath,
		"GITHUB_ENV="+ghEnv,
	)
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("failed to run install.sh: %v", err)
		}
		code = ee.ExitCode()
	}
	envOut, _ := os.ReadFile(ghEnv)
	return installRun{code: code, output: string(out), env: string(envOut), bin: dest}
}

const fakeBinary = "#!/bin/sh\necho released brickci\n"

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestInstallScript(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	fake, err := filepath.Abs(filepath.Join("testdata", "fakeaction"))
	if err != nil {
		t.Fatal(err)
	}
	good := sum(fakeBinary) + "  v9.9.9/brickci_linux_amd64\n"
	bad := strings.Repeat("0", 64) + "  v9.9.9/brickci_linux_amd64\n"
	cases := []struct {
		name, ref, install, table string
		code                      int
		outputHas                 string
		runs                      string // what the installed binary prints
	}{
		{"verified release", "v9.9.9", "release", good, 0, "sha256 " + sum(fakeBinary) + " verified", "released brickci"},
		{"checksum mismatch", "v9.9.9", "release", bad, 1, "checksum mismatch for file://", ""},
		{"no release for ref", "main", "release", good, 0, `no verified release of ref "main"`, "fake brickci main"},
		{"source requested", "v9.9.9", "source", good, 0, "install: source", "fake brickci v9.9.9"},
		{"unknown install", "v9.9.9", "docker", good, 2, `unknown install "docker"`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := runInstall(t, c.ref, c.install, c.table, fake)
			if r.code != c.code {
				t.Fatalf("exit code %d, want %d; output:\n%s", r.code, c.code, r.output)
			}
			if !strings.Contains(r.output, c.outputHas) {
				t.Errorf("output lacks %q:\n%s", c.outputHas, r.output)
			}
			bin := filepath.Join(r.bin, "brickci")
			if c.runs == "" {
				if _, err := os.Stat(bin); err == nil {
					t.Errorf("a binary was installed although the install failed")
				}
				if r.env != "" {
					t.Errorf("GITHUB_ENV written although the install failed: %q", r.env)
				}
				return
			}
			if diff := cmp.Diff("BRICKCI_BIN="+bin+"\n", r.env); diff != "" {
				t.Errorf("GITHUB_ENV (-want +got):\n%s", diff)
			}
			out, err := exec.Command(bin).CombinedOutput()
			if err != nil {
				t.Fatalf("installed binary does not run: %v\n%s", err, out)
			}
			if got := strings.TrimSpace(string(out)); got != c.runs {
				t.Errorf("installed binary prints %q, want %q", got, c.runs)
			}
		})
	}
}

func TestCommittedChecksumTableParses(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join(repoRoot, "release", "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := ParseChecksums(f); err != nil {
		t.Error(err)
	}
}

func TestParseChecksums(t *testing.T) {
	t.Parallel()
	a := strings.Repeat("a", 64)
	cases := []struct {
		name, in string
		want     []Entry
		errHas   string
	}{
		{"ok", "# c\n\n" + a + "  v1.0.0/brickci_linux_amd64\n" + a + "  v1.0.0/brickci_windows_arm64.exe\n",
			[]Entry{{a, "v1.0.0", "brickci_linux_amd64"}, {a, "v1.0.0", "brickci_windows_arm64.exe"}}, ""},
		{"short sha", "abc  v1.0.0/brickci_linux_amd64\n", nil, `line 1: "abc" is not a lower-case sha256`},
		{"bad asset", a + "  v1.0.0/brickci_plan9_amd64\n", nil, "line 1:"},
		{"exe on linux", a + "  v1.0.0/brickci_linux_amd64.exe\n", nil, "only windows assets end in .exe"},
		{"duplicate", a + "  v1/brickci_linux_amd64\n" + a + "  v1/brickci_linux_amd64\n", nil, "line 2: \"v1/brickci_linux_amd64\" is listed again (first on line 1)"},
		{"one field", a + "\n", nil, "line 1: want"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseChecksums(strings.NewReader(c.in))
			if c.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), c.errHas) {
					t.Fatalf("got error %v, want one containing %q", err, c.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// An action pinned by commit sha gets the verified release when its source
// is exactly the released source, and is built from source otherwise.
func TestInstallBySHAUsesTheRecordedSource(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	action := t.TempDir()
	if out, err := exec.Command("cp", "-R", "testdata/fakeaction/.", action).CombinedOutput(); err != nil {
		t.Fatalf("copy: %v\n%s", err, out)
	}
	hashScript, err := filepath.Abs(filepath.Join(repoRoot, "scripts", "source-hash.sh"))
	if err != nil {
		t.Fatal(err)
	}
	hash, err := exec.Command("bash", "-c", `. "$1"; brickci_source_hash "$2"`, "bash", hashScript, action).Output()
	if err != nil || len(strings.TrimSpace(string(hash))) != 64 {
		t.Fatalf("source hash: %q %v", hash, err)
	}
	os.MkdirAll(filepath.Join(action, "release"), 0o755)
	if err := os.WriteFile(filepath.Join(action, "release", "source.txt"), []byte("v9.9.9 "+strings.TrimSpace(string(hash))+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sha := strings.Repeat("ab", 20)
	table := sum(fakeBinary) + "  v9.9.9/brickci_linux_amd64\n"

	r := runInstall(t, sha, "release", table, action)
	if r.code != 0 || !strings.Contains(r.output, `ref "`+sha+`" holds the source of release v9.9.9`) || !strings.Contains(r.output, "verified") {
		t.Fatalf("exit %d:\n%s", r.code, r.output)
	}
	if out, _ := exec.Command(filepath.Join(r.bin, "brickci")).CombinedOutput(); strings.TrimSpace(string(out)) != "released brickci" {
		t.Errorf("installed %q, want the released binary", out)
	}

	// One changed source file: the release no longer matches.
	if err := os.WriteFile(filepath.Join(action, "go.mod"), []byte("module fake\n\ngo 1.21\n// changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runInstall(t, sha, "release", table, action)
	if r.code != 0 || !strings.Contains(r.output, "differs from release v9.9.9") {
		t.Fatalf("exit %d:\n%s", r.code, r.output)
	}
	if out, _ := exec.Command(filepath.Join(r.bin, "brickci")).CombinedOutput(); !strings.HasPrefix(strings.TrimSpace(string(out)), "fake brickci") {
		t.Errorf("installed %q, want a source build", out)
	}
}

// A second install in the same job reuses the binary the first one made
// from the same source or release, and installs again when that changed.
func TestInstallReusesTheBinaryOfAnEarlierStep(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	fake, err := filepath.Abs(filepath.Join("testdata", "fakeaction"))
	if err != nil {
		t.Fatal(err)
	}
	table := sum(fakeBinary) + "  v9.9.9/brickci_linux_amd64\n"
	for _, c := range []struct{ name, ref, install, first, again string }{
		{"source", "main", "release", "building from source", "reusing"},
		{"release", "v9.9.9", "release", "verified", "reusing"},
	} {
		dir := t.TempDir()
		r := runInstallIn(t, dir, c.ref, c.install, table, fake)
		if r.code != 0 || !strings.Contains(r.output, c.first) {
			t.Fatalf("%s first install: exit %d\n%s", c.name, r.code, r.output)
		}
		r = runInstallIn(t, dir, c.ref, c.install, table, fake)
		if r.code != 0 || !strings.Contains(r.output, c.again) {
			t.Errorf("%s second install did not reuse the binary: exit %d\n%s", c.name, r.code, r.output)
		}
	}
	// A release binary changed on disk is not reused: it is downloaded and
	// verified again.
	dir := t.TempDir()
	r := runInstallIn(t, dir, "v9.9.9", "release", table, fake)
	if r.code != 0 {
		t.Fatal(r.output)
	}
	if err := os.WriteFile(filepath.Join(r.bin, "brickci"), []byte("#!/bin/sh\necho tampered\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r = runInstallIn(t, dir, "v9.9.9", "release", table, fake)
	if r.code != 0 || strings.Contains(r.output, "reusing") {
		t.Errorf("a changed binary was reused:\n%s", r.output)
	}
	if out, _ := exec.Command(filepath.Join(r.bin, "brickci")).CombinedOutput(); strings.TrimSpace(string(out)) != "released brickci" {
		t.Errorf("installed %q", out)
	}
}
