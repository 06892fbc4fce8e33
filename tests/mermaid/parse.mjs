// Parse Mermaid charts with the real Mermaid library, as GitHub does before it draws them.
// stdin: {"name": "chart text", ...}; stdout: {"name": {"ok": true, "nodes": …, "edges": …, "subgraphs": …}
// or {"ok": false, "error": "…"}}. One process for every chart: importing Mermaid is the slow part.
// Run by tests/renderers.py from the cache folder it installs Mermaid into (imports resolve from there).
import { JSDOM } from "jsdom";

// Mermaid sanitises labels with DOMPurify, which needs a window.
const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });

// Mermaid hides entity codes (#quot;, #35;) behind markers while parsing; give them back as HTML entities.
const entities = (text) =>
  String(text ?? "")
    .replace(/ﬂ°°(\d+)¶ß/g, "&#$1;")
    .replace(/ﬂ°(\w+)¶ß/g, "&$1;");

let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = {};
for (const [name, text] of Object.entries(JSON.parse(input))) {
  try {
    const parsed = await mermaid.parse(text); // throws on a syntax error
    const { db } = await mermaid.mermaidAPI.getDiagramFromText(text);
    const nodes = {};
    for (const [id, vertex] of db.getVertices()) {
      nodes[id] = { text: entities(vertex.text), classes: vertex.classes };
    }
    results[name] = {
      ok: true,
      type: parsed.diagramType,
      nodes,
      edges: db.getEdges().map((edge) => [edge.start, edge.end]),
      subgraphs: db.getSubGraphs().map((s) => ({ id: s.id, title: entities(s.title), nodes: s.nodes })),
    };
  } catch (error) {
    results[name] = { ok: false, error: String(error?.message ?? error) };
  }
}
process.stdout.write(JSON.stringify(results));
