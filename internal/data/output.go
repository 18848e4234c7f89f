package data

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/khien-vn/khien/internal/detect"
)

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r Report) error {
	if r.Places == nil {
		r.Places = []Place{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes one line per place, then a summary, for a person at a terminal.
func WriteTable(w io.Writer, r Report, lang string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	vi := lang != "en"
	if vi {
		fmt.Fprintln(tw, "VỊ TRÍ\tBỘ DÒ\tSỐ LẦN\tKHÁC NHAU\tĐỘ TIN CẬY\tMẪU (ĐÃ CHE)")
	} else {
		fmt.Fprintln(tw, "LOCATION\tDETECTOR\tCOUNT\tDISTINCT\tCONFIDENCE\tSAMPLE (MASKED)")
	}
	for _, p := range r.Places {
		mark := ""
		if !p.Reportable {
			mark = " (dưới ngưỡng)"
			if !vi {
				mark = " (below threshold)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.2f\t%s%s\n", p.Location, p.Detector, p.Count, p.Distinct, p.Confidence, oneLine(p.Sample), mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	n := len(r.Reportable())
	what := fmt.Sprintf("%d tệp, %d byte", r.Files, r.Bytes)
	if !vi {
		what = fmt.Sprintf("%s, %d bytes", plural(r.Files, "file", "files"), r.Bytes)
	}
	if r.Tables > 0 {
		what = fmt.Sprintf("%d bảng, %d cột", r.Tables, r.Columns)
		if !vi {
			what = fmt.Sprintf("%s, %s", plural(r.Tables, "table", "tables"), plural(r.Columns, "column", "columns"))
		}
	}
	dur := r.Finished.Sub(r.Started).Round(1e6)
	if vi {
		_, err := fmt.Fprintf(w, "\n%d vị trí vượt ngưỡng; đã quét %s trong %s; bỏ qua %d.\n", n, what, dur, len(r.Skipped))
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d place(s) past the threshold; scanned %s in %s; %d skipped.\n", n, what, dur, len(r.Skipped))
	return err
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// SARIF 2.1.0: one rule per detector, one result per place.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool    sarifTool     `json:"tool"`
		Results []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name    string      `json:"name"`
		Version string      `json:"version,omitempty"`
		Rules   []sarifRule `json:"rules"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifRule struct {
		ID               string         `json:"id"`
		ShortDescription sarifText      `json:"shortDescription"`
		Properties       map[string]any `json:"properties"`
	}
	sarifResult struct {
		RuleID              string            `json:"ruleId"`
		RuleIndex           int               `json:"ruleIndex"`
		Level               string            `json:"level"`
		Message             sarifText         `json:"message"`
		Locations           []sarifLocation   `json:"locations"`
		PartialFingerprints map[string]string `json:"partialFingerprints"`
		Properties          map[string]any    `json:"properties"`
	}
	sarifLocation struct {
		PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
		LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           *sarifRegion  `json:"region,omitempty"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine int `json:"startLine"`
	}
	sarifLogical struct {
		Name               string `json:"name"`
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
)

// describe says what a detector finds, for SARIF rules.
func describe(id string) string {
	switch detect.ClassOf(id) {
	case detect.ClassPersonal:
		return "Vietnamese personal data: " + id
	case detect.ClassSecret:
		return "Credential: " + id
	case detect.ClassStateSecret:
		return "State-secret marking: " + id
	case detect.ClassInternal:
		return "Internal-circulation marking: " + id
	}
	return id
}

func level(class string) string {
	switch detect.Class(class) {
	case detect.ClassStateSecret, detect.ClassSecret:
		return "error"
	case detect.ClassPersonal:
		return "warning"
	}
	return "note"
}

// WriteSARIF writes the reportable places as SARIF 2.1.0, for code-scanning dashboards.
func WriteSARIF(w io.Writer, r Report, version string) error {
	var ids []string
	for _, p := range r.Places {
		if !slices.Contains(ids, p.Detector) {
			ids = append(ids, p.Detector)
		}
	}
	slices.Sort(ids)
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: "khien data scan", Version: version}}, Results: []sarifResult{}}
	for _, id := range ids {
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: id, ShortDescription: sarifText{describe(id)},
			Properties: map[string]any{"class": string(detect.ClassOf(id))}})
	}
	for _, p := range r.Places {
		loc := sarifLocation{}
		if p.Path != "" {
			loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: sarifArtifact{URI: p.Path}}
			if p.Line > 0 {
				loc.PhysicalLocation.Region = &sarifRegion{StartLine: p.Line}
			}
		} else {
			loc.LogicalLocations = []sarifLogical{{Name: p.Column, FullyQualifiedName: p.Location, Kind: "member"}}
		}
		lv := level(p.Class)
		if !p.Reportable {
			lv = "note"
		}
		run.Results = append(run.Results, sarifResult{
			RuleID: p.Detector, RuleIndex: slices.Index(ids, p.Detector), Level: lv,
			Message: sarifText{fmt.Sprintf("%s: %d occurrence(s), %d distinct value(s), confidence %.2f, e.g. %s",
				p.Detector, p.Count, p.Distinct, p.Confidence, oneLine(p.Sample))},
			Locations:           []sarifLocation{loc},
			PartialFingerprints: map[string]string{"khienValueHash/v1": p.Hash},
			Properties:          map[string]any{"count": p.Count, "distinct": p.Distinct, "confidence": p.Confidence, "sample": p.Sample},
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}
