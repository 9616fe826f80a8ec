package github

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/brickci/brickci/internal/diag"
)

func TestCommentMarkdown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    Comment
		want string
	}{
		{
			name: "clean validate",
			c:    Comment{Check: "validate", RunURL: "https://github.com/acme/rag/actions/runs/1", Commit: "0123456789abcdef0123"},
			want: "<!-- brickci:validate -->\n### ✅ brickci validate passed\n\n#### Findings\n\nNo findings.\n" +
				"\n<sub>[workflow run](https://github.com/acme/rag/actions/runs/1) · commit `0123456789ab`</sub>\n",
		},
		{
			name: "plan with findings and targets",
			c: Comment{
				Check: "plan", Title: "Deploy plan", Status: StatusFailure,
				Findings: diag.List{diag.Errorf("unknown-key", "databricks.yml", 3, 1, "unknown key %q", "jbos")},
				Sections: []Section{
					{Title: "staging", Markdown: "2 jobs to update\n"},
					{Title: "prod <main>", Markdown: "```\nlong diff\n```", Collapsed: true},
				},
			},
			want: "<!-- brickci:plan -->\n### ❌ Deploy plan failed\n\n#### Findings\n\n1 error, 0 warnings, 0 infos\n\n" +
				"| severity | location | message | rule |\n|---|---|---|---|\n" +
				"| error | `databricks.yml:3:1` | unknown key \"jbos\" | `unknown-key` |\n" +
				"\n#### staging\n\n2 jobs to update\n" +
				"\n<details><summary>prod &lt;main&gt;</summary>\n\n```\nlong diff\n```\n\n</details>\n",
		},
		{
			name: "sections only",
			c:    Comment{Check: "plan", Status: StatusWarning, Sections: []Section{{Title: "staging", Markdown: "no changes"}}},
			want: "<!-- brickci:plan -->\n### ⚠️ brickci plan passed with warnings\n\n#### staging\n\nno changes\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.c.Markdown()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("markdown (-want +got):\n%s", diff)
			}
			if got != tt.c.Markdown() {
				t.Error("two renderings differ")
			}
		})
	}
}

func TestCommentMarkdownIsCapped(t *testing.T) {
	t.Parallel()
	c := Comment{Check: "plan", Sections: []Section{{Title: "prod", Markdown: strings.Repeat("x\n", MaxBodyLength), Collapsed: true}}}
	got := c.Markdown()
	if len(got) > MaxBodyLength || !strings.HasPrefix(got, Marker("plan")) || !strings.HasSuffix(got, "</details>"+truncationNote) {
		t.Errorf("len %d, ends %q", len(got), got[len(got)-60:])
	}
}

func TestStatusOf(t *testing.T) {
	t.Parallel()
	warn := diag.Warnf("r", "f", 1, 1, "w")
	errF := diag.Errorf("r", "f", 1, 1, "e")
	tests := []struct {
		name     string
		findings diag.List
		fail     diag.Severity
		want     Status
	}{
		{"none", nil, diag.Error, StatusSuccess},
		{"info only", diag.List{diag.Infof("r", "f", 1, 1, "i")}, diag.Error, StatusSuccess},
		{"warning below fail level", diag.List{warn}, diag.Error, StatusWarning},
		{"warning at fail level", diag.List{warn}, diag.Warning, StatusFailure},
		{"error", diag.List{warn, errF}, diag.Error, StatusFailure},
	}
	for _, tt := range tests {
		if got := StatusOf(tt.findings, tt.fail); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
