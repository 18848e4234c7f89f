package report

import (
	"encoding/json"
	"io"
	"slices"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/finding"
)

// SARIF 2.1.0, the subset Khiên fills. Field names follow the OASIS schema.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Results     []sarifResult     `json:"results"`
	Invocations []sarifInvocation `json:"invocations"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	ShortDescription sarifText      `json:"shortDescription"`
	FullDescription  sarifText      `json:"fullDescription"`
	Help             sarifText      `json:"help"`
	Properties       map[string]any `json:"properties"`
	DefaultConfig    map[string]any `json:"defaultConfiguration"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications"`
}

type sarifNotification struct {
	Level      string         `json:"level"`
	Message    sarifText      `json:"message"`
	Properties map[string]any `json:"properties"`
}

// sarifLevel maps a severity to SARIF's error / warning / note.
func sarifLevel(s check.Severity) string {
	switch s {
	case check.Critical, check.High:
		return "error"
	case check.Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity is the CVSS-like number code-scanning tools sort by.
func securitySeverity(s check.Severity) string {
	return map[check.Severity]string{check.Critical: "9.5", check.High: "7.5", check.Medium: "5.0", check.Low: "3.0", check.Info: "0.0"}[s]
}

// WriteSARIF writes failing results as SARIF results (with the finding fingerprint as a
// partial fingerprint, so tools track them across runs) and errors as notifications.
func WriteSARIF(w io.Writer, s Scan) error {
	run := sarifRun{
		Tool:        sarifTool{Driver: sarifDriver{Name: "Khiên", Version: s.Version, Rules: []sarifRule{}}},
		Results:     []sarifResult{},
		Invocations: []sarifInvocation{{ExecutionSuccessful: true, ToolExecutionNotifications: []sarifNotification{}}},
	}
	ruleIndex := map[string]int{}
	var used []string
	for _, r := range s.Results {
		if r.Status == check.Fail && !slices.Contains(used, r.Check) {
			used = append(used, r.Check)
		}
	}
	for _, id := range used {
		d, _ := s.Catalog.Def(id)
		ruleIndex[id] = len(run.Tool.Driver.Rules)
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
			ID: id, Name: id,
			ShortDescription: sarifText{d.Title.EN},
			FullDescription:  sarifText{d.Title.EN + " / " + d.Title.VI},
			Help:             sarifText{d.Remediation.EN + "\n\n" + d.Remediation.VI},
			Properties: map[string]any{
				"security-severity": securitySeverity(d.Severity), "tags": []string{"security", d.Family()},
				"title_vi": d.Title.VI, "references": d.References,
			},
			DefaultConfig: map[string]any{"level": sarifLevel(d.Severity)},
		})
	}
	for _, r := range s.Results {
		switch r.Status {
		case check.Fail:
			sev := severity(s.Catalog, r.Check)
			loc := sarifLocation{LogicalLocations: []sarifLogical{{Name: r.Endpoint, FullyQualifiedName: r.Resource + "#" + r.Endpoint, Kind: "resource"}}}
			run.Results = append(run.Results, sarifResult{
				RuleID: r.Check, RuleIndex: ruleIndex[r.Check], Level: sarifLevel(sev),
				Message:             sarifText{r.Reason.EN},
				Locations:           []sarifLocation{loc},
				PartialFingerprints: map[string]string{"khienFingerprint/v1": finding.Fingerprint(r.Check, r.Resource, r.Endpoint)},
				Properties:          map[string]any{"resource": r.Resource, "reason_vi": r.Reason.VI, "evidence": r.Evidence, "severity": sev},
			})
		case check.Error:
			run.Invocations[0].ToolExecutionNotifications = append(run.Invocations[0].ToolExecutionNotifications, sarifNotification{
				Level: "warning", Message: sarifText{r.Check + " on " + r.Resource + ": " + r.Reason.EN},
				Properties: map[string]any{"check": r.Check, "resource": r.Resource},
			})
		}
	}
	log := sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}
