package diag

import (
	"encoding/json"
	"io"
	"path"
	"sort"
	"strings"
)

// SARIFSchema is the schema URI written into every SARIF log.
const SARIFSchema = "https://json.schemastore.org/sarif-2.1.0.json"

// ToolInfo names the program that produced the findings in a SARIF log.
type ToolInfo struct {
	Name           string
	Version        string
	InformationURI string
}

// RuleDoc documents one rule for SARIF consumers such as GitHub code
// scanning, which shows the descriptions and help next to each alert.
type RuleDoc struct {
	// ID is the rule id findings carry (kebab-case).
	ID string
	// Short is a one-line description.
	Short string
	// Full is a longer description; Short is used when it is empty.
	Full string
	// Help says how to fix a finding; Full is used when it is empty.
	Help string
	// HelpURI optionally links to more documentation.
	HelpURI string
	// Level is the rule's default severity.
	Level Severity
}

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string       `json:"id"`
	ShortDescription     sarifText    `json:"shortDescription"`
	FullDescription      sarifText    `json:"fullDescription"`
	Help                 sarifText    `json:"help"`
	HelpURI              string       `json:"helpUri,omitempty"`
	DefaultConfiguration sarifRuleCfg `json:"defaultConfiguration"`
}

type sarifRuleCfg struct {
	Level string `json:"level"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level   string    `json:"level"`
	Message sarifText `json:"message"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
	EndLine     int `json:"endLine,omitempty"`
	EndColumn   int `json:"endColumn,omitempty"`
}

// SARIFLevel maps a severity to a SARIF result level.
func SARIFLevel(s Severity) string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	default:
		return "note"
	}
}

// WriteSARIF writes the findings as a SARIF 2.1.0 log with one run, in the
// shape GitHub code scanning accepts. Rules are listed sorted by id; a
// finding whose rule is not documented in rules still gets a rule entry so
// that every result's ruleIndex is valid. File paths are written relative
// to %SRCROOT%. Findings without a file (notes about the run itself) become
// tool execution notifications, because code scanning rejects results
// without a location.
func WriteSARIF(w io.Writer, tool ToolInfo, l List, rules []RuleDoc) error {
	byID := map[string]RuleDoc{}
	for _, r := range rules {
		byID[r.ID] = r
	}
	for _, f := range l {
		if _, ok := byID[f.Rule]; !ok && f.File != "" {
			byID[f.Rule] = RuleDoc{ID: f.Rule, Short: f.Rule, Level: f.Severity}
		}
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	index := make(map[string]int, len(ids))
	driver := sarifDriver{Name: tool.Name, Version: tool.Version, InformationURI: tool.InformationURI, Rules: make([]sarifRule, 0, len(ids))}
	for i, id := range ids {
		index[id] = i
		driver.Rules = append(driver.Rules, sarifRuleFor(byID[id]))
	}

	sorted := append(List(nil), l...)
	for i := range sorted {
		if f := sorted[i].File; f != "" && !path.IsAbs(f) {
			sorted[i].File = strings.TrimPrefix(path.Clean(strings.ReplaceAll(f, "\\", "/")), "./")
		}
	}
	sorted.Sort()
	inv := sarifInvocation{ExecutionSuccessful: true}
	results := make([]sarifResult, 0, len(sorted))
	for _, f := range sorted {
		if f.File == "" {
			msg := f.Message
			if f.Rule != "" {
				msg += " [" + f.Rule + "]"
			}
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{Level: SARIFLevel(f.Severity), Message: sarifText{msg}})
			continue
		}
		results = append(results, sarifResult{
			RuleID:    f.Rule,
			RuleIndex: index[f.Rule],
			Level:     SARIFLevel(f.Severity),
			Message:   sarifText{f.Message},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysicalFor(f)}},
		})
	}
	log := sarifLog{
		Schema:  SARIFSchema,
		Version: "2.1.0",
		Runs:    []sarifRun{{Tool: sarifTool{Driver: driver}, Invocations: []sarifInvocation{inv}, Results: results}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

func sarifRuleFor(r RuleDoc) sarifRule {
	short := r.Short
	if short == "" {
		short = r.ID
	}
	full := r.Full
	if full == "" {
		full = short
	}
	help := r.Help
	if help == "" {
		help = full
	}
	return sarifRule{
		ID:                   r.ID,
		ShortDescription:     sarifText{short},
		FullDescription:      sarifText{full},
		Help:                 sarifText{help},
		HelpURI:              r.HelpURI,
		DefaultConfiguration: sarifRuleCfg{Level: SARIFLevel(r.Level)},
	}
}

func sarifPhysicalFor(f Finding) sarifPhysical {
	uri := strings.ReplaceAll(f.File, "\\", "/")
	art := sarifArtifact{URI: uri}
	if path.IsAbs(uri) || (len(uri) > 1 && uri[1] == ':') {
		art.URI = "file://" + ensureLeadingSlash(uri)
	} else {
		art.URI = strings.TrimPrefix(path.Clean(uri), "./")
		art.URIBaseID = "%SRCROOT%"
	}
	p := sarifPhysical{ArtifactLocation: art}
	if f.Line > 0 {
		r := &sarifRegion{StartLine: f.Line, EndLine: f.Line}
		if f.EndLine >= f.Line {
			r.EndLine = f.EndLine
		}
		if f.Column > 0 {
			r.StartColumn = f.Column
			if f.EndColumn > 0 && (r.EndLine > f.Line || f.EndColumn > f.Column) {
				r.EndColumn = f.EndColumn
			}
		}
		p.Region = r
	}
	return p
}

func ensureLeadingSlash(s string) string {
	if strings.HasPrefix(s, "/") {
		return s
	}
	return "/" + s
}
