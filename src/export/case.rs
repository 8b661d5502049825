//! The bundle as a CASE 1.5.0 / UCO JSON-LD graph (<https://caseontology.org>): evidence items,
//! examiner, tool, the collection as an investigative action with its provenance records,
//! findings as annotations, the bundle digest and the examiner signature state. Only an intact
//! bundle is exported: a graph that other tools ingest keeps no "altered" mark they must honour,
//! so an altered bundle is refused rather than exported marked. Identifiers are UUIDv5 from the
//! bundle digest, so the same bundle always gives the same bytes.

use crate::bundle::{Proof, VerifiedBundle};
use crate::model::custody::{CustodyAction, CustodyEvent};
use crate::model::digest::Sha256Digest;
use crate::model::evidence::{DigestOf, EvidenceItem, Finding};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

/// The CASE release the graph is written against (what `case_validate` checks it with).
pub const CASE_VERSION: &str = "1.5.0";

/// Prefix of every node IRI (`kb:file-<uuid>` = `urn:wsc-forensics:file-<uuid>`).
pub const KB_PREFIX: &str = "urn:wsc-forensics:";

/// Why a bundle was not exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Verification failed: the problems it found, one per entry.
    #[error("{bundle}: not exported: the bundle FAILED verification ({})", problems.join("; "))]
    NotIntact {
        bundle: String,
        problems: Vec<String>,
    },
}

/// The JSON-LD document of `bundle` (opened by [`crate::bundle::open_verified`]); `name` is
/// the bundle's file name as the graph records it. An altered bundle is refused.
pub fn case_graph(bundle: &VerifiedBundle, name: &str) -> Result<Value, ExportError> {
    let proof = Proof::of(&bundle.report).ok_or_else(|| ExportError::NotIntact {
        bundle: bundle.report.bundle.clone(),
        problems: bundle
            .report
            .problems
            .iter()
            .map(|p| p.to_string())
            .collect(),
    })?;
    let mut g = Graph::new(bundle.contents.digest);
    let bundle_file = g.bundle_nodes(name, &proof);
    let (examiner, tool) = g.people_and_tool(bundle);
    let ev = &bundle.contents.evidence;
    let mut sources = Vec::with_capacity(ev.items.len());
    let mut results = vec![id(&bundle_file)];
    for (i, item) in ev.items.iter().enumerate() {
        let (source, copy, record) = g.item_nodes(i, item, &bundle_file, &tool);
        sources.push(id(&source));
        results.push(id(&copy));
        results.push(id(&record));
        for f in &item.findings {
            g.finding(f, &copy, ev);
        }
    }
    for f in &ev.findings {
        g.finding(f, &bundle_file, ev);
    }
    g.action(bundle, &examiner, &tool, sources, results);
    Ok(json!({ "@context": context(), "@graph": g.nodes }))
}

/// The JSON-LD prefixes the graph uses.
fn context() -> Value {
    json!({
        "kb": KB_PREFIX,
        "case-investigation": "https://ontology.caseontology.org/case/investigation/",
        "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
        "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
        "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
        "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
        "uco-tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
        "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
        "xsd": "http://www.w3.org/2001/XMLSchema#"
    })
}

/// A reference to a node (`{"@id": …}`).
fn id(iri: &str) -> Value {
    json!({ "@id": iri })
}

/// An `xsd:dateTime` typed literal, in UTC with `Z`.
fn date_time(t: DateTime<Utc>) -> Value {
    json!({ "@type": "xsd:dateTime", "@value": t.to_rfc3339_opts(SecondsFormat::AutoSi, true) })
}

/// The last component of a recorded path (the whole text when it has none).
fn base_name(path: &str) -> &str {
    path.rsplit('/').find(|s| !s.is_empty()).unwrap_or(path)
}

/// The graph under construction: its nodes, in a fixed order, and the namespace its
/// identifiers are derived in.
struct Graph {
    digest: Sha256Digest,
    namespace: Uuid,
    nodes: Vec<Value>,
}

impl Graph {
    fn new(digest: Sha256Digest) -> Self {
        // One namespace per bundle: the same node name in two bundles is two nodes.
        let base = Uuid::new_v5(&Uuid::NAMESPACE_URL, KB_PREFIX.as_bytes());
        let namespace = Uuid::new_v5(&base, digest.to_hex().as_bytes());
        Graph {
            digest,
            namespace,
            nodes: Vec::new(),
        }
    }

    /// `kb:<class>-<uuid5(bundle digest, key)>`.
    fn iri(&self, class: &str, key: &str) -> String {
        format!(
            "kb:{class}-{}",
            Uuid::new_v5(&self.namespace, key.as_bytes())
        )
    }

    /// A SHA-256 as a `uco-types:Hash` node.
    fn hash(&self, key: &str, digest: &Sha256Digest) -> Value {
        json!({
            "@id": self.iri("hash", key),
            "@type": "uco-types:Hash",
            // A plain string since UCO 1.4.0 (the vocabulary datatype is deprecated).
            "uco-types:hashMethod": "SHA256",
            // Upper case: the canonical lexical form of xsd:hexBinary.
            "uco-types:hashValue": { "@type": "xsd:hexBinary", "@value": digest.to_hex().to_uppercase() }
        })
    }

    /// A directional relationship `source` → `target` of `kind`, with the path of the source
    /// inside the target when there is one.
    fn relationship(&mut self, key: &str, source: &str, target: &str, kind: &str, path: &str) {
        let mut node = json!({
            "@id": self.iri("relationship", key),
            "@type": "uco-observable:ObservableRelationship",
            "uco-core:source": id(source),
            "uco-core:target": id(target),
            "uco-core:kindOfRelationship": kind,
            "uco-core:isDirectional": true
        });
        if !path.is_empty() {
            node["uco-core:hasFacet"] = json!([{
                "@id": self.iri("path-relation-facet", key),
                "@type": "uco-observable:PathRelationFacet",
                "uco-observable:path": path
            }]);
        }
        self.nodes.push(node);
    }

    /// The bundle file, its tag manifest (whose SHA-256 is the bundle digest) and the
    /// examiner signature state; returns the bundle file's IRI.
    fn bundle_nodes(&mut self, name: &str, proof: &Proof) -> String {
        let bundle = self.iri("file", "bundle");
        let hex = self.digest.to_hex();
        self.nodes.push(json!({
            "@id": bundle,
            "@type": "uco-observable:File",
            "uco-core:description": format!(
                "wsc-forensics evidence bundle (BagIt bag in a zip); bundle digest {hex} \
                 (SHA-256 of its tagmanifest-sha256.txt)"
            ),
            "uco-core:hasFacet": [{
                "@id": self.iri("file-facet", "bundle"),
                "@type": "uco-observable:FileFacet",
                "uco-observable:fileName": name
            }]
        }));
        let manifest = self.iri("file", "tagmanifest");
        self.nodes.push(json!({
            "@id": manifest,
            "@type": "uco-observable:File",
            "uco-core:description": "The bag's tag manifest: its SHA-256 is the bundle digest, which pins every byte of the bag",
            "uco-core:hasFacet": [
                {
                    "@id": self.iri("file-facet", "tagmanifest"),
                    "@type": "uco-observable:FileFacet",
                    "uco-observable:fileName": "tagmanifest-sha256.txt"
                },
                {
                    "@id": self.iri("content-data-facet", "tagmanifest"),
                    "@type": "uco-observable:ContentDataFacet",
                    "uco-observable:hash": [self.hash("tagmanifest", &self.digest)]
                }
            ]
        }));
        self.relationship("tagmanifest", &manifest, &bundle, "Contained_Within", "");
        let state = match proof {
            Proof::SignedByExaminer { .. } => "signed-by-examiner-key",
            Proof::NotSigned => "not-signed",
            Proof::SignatureNotChecked { .. } => "signature-not-checked",
        };
        self.nodes.push(json!({
            "@id": self.iri("annotation", "examiner-signature"),
            "@type": "uco-core:Annotation",
            "uco-core:name": "examiner signature",
            "uco-core:statement": format!("verification: {proof}"),
            "uco-core:tag": [format!("examiner-signature:{state}")],
            "uco-core:object": [id(&bundle), id(&manifest)]
        }));
        bundle
    }
}

impl Graph {
    /// The examiner (a person, with their organisation when recorded) and the collecting tool;
    /// returns their IRIs.
    fn people_and_tool(&mut self, bundle: &VerifiedBundle) -> (String, String) {
        let ev = &bundle.contents.evidence;
        let started = started(&bundle.contents.custody);
        let examiner = self.iri("identity", "examiner");
        let name = ev
            .case
            .examiner
            .clone()
            .or_else(|| started.and_then(|e| e.actor.examiner.clone()));
        let account = match started {
            Some(e) => format!(
                "operating-system account {} on host {}",
                e.actor.user, e.actor.host
            ),
            None => "operating-system account not recorded".to_owned(),
        };
        let mut person = json!({
            "@id": examiner,
            "@type": "uco-identity:Person",
            "uco-core:description": match &name {
                Some(_) => format!("Examiner; collected as {account}"),
                None => format!("Examiner not recorded; collected as {account}"),
            }
        });
        if let Some(name) = name {
            person["uco-core:name"] = json!(name);
        }
        self.nodes.push(person);
        if let Some(org) = &ev.case.organization {
            let organization = self.iri("identity", "organization");
            self.nodes.push(json!({
                "@id": organization,
                "@type": "uco-identity:Organization",
                "uco-core:name": org
            }));
            self.nodes.push(json!({
                "@id": self.iri("relationship", "examiner-organization"),
                "@type": "uco-core:Relationship",
                "uco-core:source": id(&examiner),
                "uco-core:target": id(&organization),
                "uco-core:kindOfRelationship": "Affiliated_With",
                "uco-core:isDirectional": true
            }));
        }
        let tool = self.iri("tool", "collector");
        self.nodes.push(json!({
            "@id": tool,
            "@type": "uco-tool:Tool",
            "uco-core:name": ev.tool.name,
            "uco-tool:version": ev.tool.version,
            "uco-tool:toolType": "forensic evidence collection"
        }));
        (examiner, tool)
    }

    /// One evidence item: the source as found (original path, `stat` before reading), the
    /// item as collected (name, size, SHA-256, path in the bag), where it sits in the bundle,
    /// and its provenance record. Returns (source, item, record) IRIs.
    fn item_nodes(
        &mut self,
        index: usize,
        item: &EvidenceItem,
        bundle: &str,
        tool: &str,
    ) -> (String, String, String) {
        let n = index + 1;
        let path = &item.source.text;
        let source = self.iri("file", &format!("source/{index}"));
        let stat = &item.stat_before;
        let mut source_node = json!({
            "@id": source,
            "@type": "uco-observable:File",
            "uco-core:description": format!("Source of evidence item {n}, as found before collection"),
            "uco-core:hasFacet": [{
                "@id": self.iri("file-facet", &format!("source/{index}")),
                "@type": "uco-observable:FileFacet",
                "uco-observable:fileName": base_name(path),
                "uco-observable:filePath": path,
                "uco-observable:sizeInBytes": stat.size,
                "uco-observable:modifiedTime": date_time(stat.mtime),
                "uco-observable:accessedTime": date_time(stat.atime),
                "uco-observable:metadataChangeTime": date_time(stat.ctime)
            }]
        });
        if let Some(raw) = &item.source.raw_hex {
            source_node["uco-core:tag"] = json!([format!("path-bytes-hex:{raw}")]);
        }
        self.nodes.push(source_node);

        let copy = self.iri("file", &format!("item/{index}"));
        let kind = serde_json::to_value(item.kind).unwrap_or(Value::Null);
        let kind = kind.as_str().unwrap_or("item");
        let hex = item.sha256.to_hex();
        let what = match item.digest_of {
            DigestOf::File => format!("SHA-256 {hex}"),
            DigestOf::PublicKey => format!(
                "secret key, bytes not collected; SHA-256 {hex} is of its public key, not of the file"
            ),
            DigestOf::SourcePath => format!(
                "secret key, bytes not collected; SHA-256 {hex} is of its source path, not of the file"
            ),
        };
        let mut facets = vec![json!({
            "@id": self.iri("file-facet", &format!("item/{index}")),
            "@type": "uco-observable:FileFacet",
            "uco-observable:fileName": base_name(item.bag_path.as_deref().unwrap_or(path)),
            "uco-observable:sizeInBytes": item.size
        })];
        if let Some(bag_path) = &item.bag_path {
            facets[0]["uco-observable:filePath"] = json!(bag_path);
        }
        if item.digest_of == DigestOf::File {
            facets.push(json!({
                "@id": self.iri("content-data-facet", &format!("item/{index}")),
                "@type": "uco-observable:ContentDataFacet",
                "uco-observable:sizeInBytes": item.size,
                "uco-observable:hash": [self.hash(&format!("item/{index}"), &item.sha256)]
            }));
        }
        self.nodes.push(json!({
            "@id": copy,
            "@type": "uco-observable:File",
            "uco-core:name": format!("evidence item {n}"),
            "uco-core:description": format!("Evidence item {n} ({kind}) collected from {path}; {what}"),
            "uco-core:tag": [kind],
            "uco-core:hasFacet": facets
        }));
        if let Some(bag_path) = &item.bag_path {
            self.relationship(
                &format!("item/{index}"),
                &copy,
                bundle,
                "Contained_Within",
                bag_path,
            );
        }

        let record = self.iri("provenance-record", &format!("item/{index}"));
        self.nodes.push(json!({
            "@id": record,
            "@type": "case-investigation:ProvenanceRecord",
            "case-investigation:exhibitNumber": n.to_string(),
            "uco-core:description": format!(
                "Evidence item {n}: {path}, collected by {tool} into bundle {}",
                self.digest.to_hex()
            ),
            "uco-core:object": [id(&copy), id(&source)]
        }));
        (source, copy, record)
    }

    /// A finding as an annotation on `about` and on the items it relates to.
    fn finding(&mut self, f: &Finding, about: &str, ev: &crate::model::evidence::Evidence) {
        let mut objects = vec![id(about)];
        for r in &f.related {
            if let Some(j) = ev.items.iter().position(|i| i.sha256 == *r) {
                objects.push(id(&self.iri("file", &format!("item/{j}"))));
            }
        }
        let mut tags = vec![
            format!("finding:{}", f.code),
            format!("severity:{}", f.severity.as_str()),
        ];
        if let Some(t) = f.incident_type {
            tags.push(format!("incident-type:{}", t.code()));
        }
        // The node count is a stable position in a graph built in a fixed order.
        let key = format!("finding/{}", self.nodes.len());
        self.nodes.push(json!({
            "@id": self.iri("annotation", &key),
            "@type": "uco-core:Annotation",
            "uco-core:name": f.code,
            "uco-core:statement": f.message,
            "uco-core:tag": tags,
            "uco-core:object": objects
        }));
    }

    /// The collection as one investigative action: when, by whom, with what, from which
    /// sources, producing which items and records.
    fn action(
        &mut self,
        bundle: &VerifiedBundle,
        examiner: &str,
        tool: &str,
        sources: Vec<Value>,
        results: Vec<Value>,
    ) {
        let ev = &bundle.contents.evidence;
        let custody = &bundle.contents.custody;
        let at = |action| {
            custody
                .iter()
                .find(|e| e.action == action)
                .map(|e| e.time.with_timezone(&Utc))
        };
        let start = at(CustodyAction::CollectionStarted).unwrap_or(ev.collected_at);
        let mut node = json!({
            "@id": self.iri("investigative-action", "collection"),
            "@type": "case-investigation:InvestigativeAction",
            "uco-core:name": format!("collection of case {}", ev.case.case_id),
            "uco-action:startTime": date_time(start),
            "uco-action:performer": id(examiner),
            "uco-action:instrument": id(tool),
            "uco-action:object": sources,
            "uco-action:result": results
        });
        if let Some(end) = at(CustodyAction::CollectionFinished) {
            node["uco-action:endTime"] = date_time(end);
        }
        if let Some(e) = started(custody) {
            node["uco-core:description"] = json!(format!("command line: {}", e.argv.join(" ")));
        }
        self.nodes.push(node);
    }
}

/// The custody record's collection-started event, if any.
fn started(custody: &[CustodyEvent]) -> Option<&CustodyEvent> {
    custody
        .iter()
        .find(|e| e.action == CustodyAction::CollectionStarted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_stable_per_bundle_and_differ_between_bundles() {
        let a = Graph::new(Sha256Digest::of(b"bundle a"));
        let b = Graph::new(Sha256Digest::of(b"bundle b"));
        let a_again = Graph::new(Sha256Digest::of(b"bundle a"));
        assert_eq!(a.iri("file", "item/0"), a_again.iri("file", "item/0"));
        assert_ne!(a.iri("file", "item/0"), b.iri("file", "item/0"));
        assert_ne!(a.iri("file", "item/0"), a.iri("file", "item/1"));
        let iri = a.iri("file", "item/0");
        let uuid = iri.strip_prefix("kb:file-").unwrap();
        assert_eq!(Uuid::parse_str(uuid).unwrap().get_version_num(), 5);
    }

    #[test]
    fn names_and_times_as_case_wants_them() {
        assert_eq!(base_name("/cases/keys/a.pub"), "a.pub");
        assert_eq!(base_name("dir/"), "dir");
        assert_eq!(base_name("a"), "a");
        let t = "2026-11-25T08:00:00.5+01:00"
            .parse::<DateTime<Utc>>()
            .unwrap();
        assert_eq!(
            date_time(t),
            json!({"@type": "xsd:dateTime", "@value": "2026-11-25T07:00:00.500Z"})
        );
        let h = Graph::new(Sha256Digest::of(b"x")).hash("k", &Sha256Digest::of(b"y"));
        assert_eq!(h["uco-types:hashMethod"], "SHA256");
        assert_eq!(
            h["uco-types:hashValue"]["@value"],
            Sha256Digest::of(b"y").to_hex().to_uppercase()
        );
    }
}
