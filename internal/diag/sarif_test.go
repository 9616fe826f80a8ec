package diag

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sarifFixture() (ToolInfo, List, []RuleDoc) {
	tool := ToolInfo{Name: "brickci", Version: "1.2.3", InformationURI: "https://github.com/brickci/brickci"}
	l := List{
		Warnf("timeout", ".github/workflows/b.yml", 7, 5, "job %q has no timeout-minutes", "build"),
		Errorf("unpinned-action", "./.github/workflows/a.yml", 12, 15, "action %q is pinned by tag", "actions/checkout@v4"),
		Errorf("expression", ".github/workflows/a.yml", 3, 9, "undefined property %q", "foo"),
		Infof("timeout", "action.yml", 0, 0, "about the whole file"),
		Infof("external-tools", "", 0, 0, "shellcheck was not found on PATH"),
		{Severity: Error, Rule: "unpinned-action", File: ".github/workflows/a.yml", Line: 20, Column: 3, EndLine: 20, EndColumn: 40, Message: "ranged"},
	}
	rules := []RuleDoc{
		{ID: "unpinned-action", Short: "actions must be pinned by commit sha", Help: "pin the action by its full commit sha with a version comment", Level: Error},
		{ID: "timeout", Short: "jobs need timeout-minutes", Level: Info},
	}
	return tool, l, rules
}

func TestWriteSARIFGolden(t *testing.T) {
	t.Parallel()
	tool, l, rules := sarifFixture()
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, tool, l, rules); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "findings.sarif")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("failed to read golden file (run with -update): %v", err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("sarif (-want +got):\n%s", diff)
	}
	// Same input in another order gives the same bytes.
	var again bytes.Buffer
	rev := append(List(nil), l...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	if err := WriteSARIF(&again, tool, rev, []RuleDoc{rules[1], rules[0]}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(buf.String(), again.String()); diff != "" {
		t.Errorf("order changed the output (-first +second):\n%s", diff)
	}
}

// TestWriteSARIFStructure checks what GitHub code scanning requires,
// independently of the golden file.
func TestWriteSARIFStructure(t *testing.T) {
	t.Parallel()
	tool, l, rules := sarifFixture()
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, tool, l, rules); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if doc["$schema"] != SARIFSchema || doc["version"] != "2.1.0" {
		t.Fatalf("schema/version = %v %v", doc["$schema"], doc["version"])
	}
	runs := doc["runs"].([]any)
	if len(runs) != 1 {
		t.Fatalf("want one run, got %d", len(runs))
	}
	run := runs[0].(map[string]any)
	driver := run["tool"].(map[string]any)["driver"].(map[string]any)
	for _, k := range []string{"name", "version", "informationUri"} {
		if s, _ := driver[k].(string); s == "" {
			t.Errorf("driver.%s missing", k)
		}
	}
	ruleList := driver["rules"].([]any)
	var ids []string
	for _, r := range ruleList {
		rm := r.(map[string]any)
		ids = append(ids, rm["id"].(string))
		for _, k := range []string{"shortDescription", "fullDescription", "help"} {
			if s, _ := rm[k].(map[string]any)["text"].(string); s == "" {
				t.Errorf("rule %v: %s.text missing", rm["id"], k)
			}
		}
		lvl := rm["defaultConfiguration"].(map[string]any)["level"]
		if lvl != "error" && lvl != "warning" && lvl != "note" {
			t.Errorf("rule %v: bad level %v", rm["id"], lvl)
		}
	}
	if diff := cmp.Diff([]string{"expression", "timeout", "unpinned-action"}, ids); diff != "" {
		t.Errorf("rule ids (-want +got):\n%s", diff)
	}
	results := run["results"].([]any)
	if len(results) != 5 {
		t.Fatalf("want 5 results (the file-less finding is a notification), got %d", len(results))
	}
	for i, r := range results {
		rm := r.(map[string]any)
		idx := int(rm["ruleIndex"].(float64))
		if ids[idx] != rm["ruleId"] {
			t.Errorf("result %d: ruleIndex %d points at %q, ruleId is %q", i, idx, ids[idx], rm["ruleId"])
		}
		if lvl := rm["level"]; lvl != "error" && lvl != "warning" && lvl != "note" {
			t.Errorf("result %d: bad level %v", i, lvl)
		}
		if s, _ := rm["message"].(map[string]any)["text"].(string); s == "" {
			t.Errorf("result %d: no message", i)
		}
		loc := rm["locations"].([]any)[0].(map[string]any)["physicalLocation"].(map[string]any)
		art := loc["artifactLocation"].(map[string]any)
		if art["uriBaseId"] != "%SRCROOT%" || filepath.IsAbs(art["uri"].(string)) || strings.HasPrefix(art["uri"].(string), "./") {
			t.Errorf("result %d: artifact %v", i, art)
		}
		region, hasRegion := loc["region"].(map[string]any)
		if art["uri"] == "action.yml" {
			if hasRegion {
				t.Errorf("line 0 must have no region, got %v", region)
			}
			continue
		}
		if !hasRegion || region["startLine"].(float64) < 1 || region["endLine"].(float64) < region["startLine"].(float64) {
			t.Errorf("result %d: bad region %v", i, region)
		}
	}
	inv := run["invocations"].([]any)[0].(map[string]any)
	notes := inv["toolExecutionNotifications"].([]any)
	if len(notes) != 1 || notes[0].(map[string]any)["level"] != "note" {
		t.Errorf("notifications = %v", notes)
	}
}

func TestSARIFLevel(t *testing.T) {
	t.Parallel()
	for s, want := range map[Severity]string{Error: "error", Warning: "warning", Info: "note"} {
		if got := SARIFLevel(s); got != want {
			t.Errorf("SARIFLevel(%v) = %q, want %q", s, got, want)
		}
	}
}
