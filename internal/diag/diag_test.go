package diag

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFindingString(t *testing.T) {
	t.Parallel()
	cases := []struct {
		f    Finding
		want string
	}{
		{Errorf("unknown-key", "a.yaml", 3, 5, "unknown key %q", "projct"), `a.yaml:3:5: unknown key "projct" [unknown-key]`},
		{Warnf("tag-pin", "a.yaml", 1, 1, "pinned by tag"), `a.yaml:1:1: warning: pinned by tag [tag-pin]`},
		{Infof("x", "a.yaml", 0, 0, "whole file"), `a.yaml: info: whole file [x]`},
		{Finding{Severity: Error, Message: "no file"}, `no file`},
	}
	for _, c := range cases {
		if got := c.f.String(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

func TestSortAndSummary(t *testing.T) {
	t.Parallel()
	l := List{
		Warnf("b", "z.yaml", 1, 1, "w"),
		Errorf("a", "a.yaml", 9, 1, "e2"),
		Errorf("a", "a.yaml", 2, 4, "e1"),
		Infof("c", "a.yaml", 2, 1, "i"),
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, l); err != nil {
		t.Fatal(err)
	}
	want := "a.yaml:2:1: info: i [c]\na.yaml:2:4: e1 [a]\na.yaml:9:1: e2 [a]\nz.yaml:1:1: warning: w [b]\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}
	if got := l.Summarize(); got != (Summary{Errors: 2, Warnings: 1, Infos: 1}) {
		t.Errorf("summary = %+v", got)
	}
	if got := l.BySeverity()[0].Message; got != "e1" {
		t.Errorf("most severe first: got %q", got)
	}
	if !l.AtLeast(Warning) || (List{Infof("c", "", 0, 0, "")}).AtLeast(Warning) {
		t.Error("AtLeast is wrong")
	}
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := List{Errorf("r", "f.yml", 4, 2, "bad")}
	if err := WriteJSON(&buf, l, map[string]any{"target": "prod"}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Findings []map[string]any `json:"findings"`
		Summary  Summary          `json:"summary"`
		Target   string           `json:"target"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Findings) != 1 || got.Findings[0]["rule"] != "r" || got.Findings[0]["line"] != float64(4) || got.Findings[0]["severity"] != "error" {
		t.Errorf("findings = %v", got.Findings)
	}
	if got.Summary.Errors != 1 || got.Target != "prod" {
		t.Errorf("summary/extra = %+v %q", got.Summary, got.Target)
	}
}

func TestWriteMarkdownEscapes(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, List{Errorf("r", "f.yml", 1, 1, "a | b\n<script>")}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "<script>") || !strings.Contains(out, `a \| b<br>\<script\>`) {
		t.Errorf("cell not escaped: %s", out)
	}
}

func TestParseSeverity(t *testing.T) {
	t.Parallel()
	if s, err := ParseSeverity("Warning"); err != nil || s != Warning {
		t.Errorf("got %v %v", s, err)
	}
	if _, err := ParseSeverity("fatal"); err == nil || !strings.Contains(err.Error(), `"fatal"`) {
		t.Errorf("want error naming the value, got %v", err)
	}
}

func TestOnly(t *testing.T) {
	t.Parallel()
	l := List{Errorf("a", "f", 1, 1, "e1"), Warnf("b", "f", 2, 1, "w"), Errorf("c", "f", 3, 1, "e2"), Infof("d", "f", 4, 1, "i")}
	var got []string
	for _, f := range l.Only(Error) {
		got = append(got, f.Rule)
	}
	if want := []string{"a", "c"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Only(Error) = %v, want %v", got, want)
	}
	if n := len(l.Only(Warning)); n != 1 {
		t.Errorf("Only(Warning) has %d findings, want 1", n)
	}
}
