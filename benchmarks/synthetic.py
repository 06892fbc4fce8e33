"""Synthetic roadmaps of any size, for the benchmarks.

    python benchmarks/synthetic.py 5000 /tmp/synthetic-5000.yaml

Topics `t00001`, `t00002`, ... in phases of 50 (`p0001`, ...). Each topic requires 2.5 earlier topics on
average, so the graph is acyclic by construction; most prerequisites are recent topics (as in a real course,
where a topic builds on the last few), some are anywhere earlier, often in another phase. The same
`(n_topics, seed)` always gives the same file.

Topics are written in YAML flow style, one per line, to stay compact: 20,000 topics take about 1.6 MB,
well under the loader's 4 MiB limit.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

TOPICS_PER_PHASE = 50
MAX_REQUIRES = 5  # 0..5 prerequisites, uniformly: 2.5 on average
RECENT_WINDOW = 40  # "recent" prerequisites are among the previous 40 topics
RECENT_SHARE = 0.8  # the rest are drawn from every earlier topic


def topic_id(index: int, width: int) -> str:
    return f"t{index:0{width}d}"


def write_roadmap(path: str | Path, n_topics: int, seed: int = 0) -> Path:
    """Write a valid roadmap of `n_topics` topics to `path` and return the path."""
    if n_topics < 1:
        raise ValueError("a roadmap needs at least one topic")
    rng = random.Random(seed)
    width = max(5, len(str(n_topics)))
    lines = [
        f"# Synthetic llmpath roadmap: {n_topics} topics, seed {seed} (benchmarks/synthetic.py).",
        "schema: 1",
        f"id: synthetic-{n_topics}",
        f"title: Synthetic roadmap ({n_topics} topics)",
        "phases:",
    ]
    for index in range(1, n_topics + 1):
        if (index - 1) % TOPICS_PER_PHASE == 0:
            number = (index - 1) // TOPICS_PER_PHASE + 1
            lines += [f"  - id: p{number:04d}", f"    title: Phase {number}", "    topics:"]
        earlier = index - 1
        wanted = min(rng.randint(0, MAX_REQUIRES), earlier)
        requires: set[int] = set()
        while len(requires) < wanted:
            if rng.random() < RECENT_SHARE:
                requires.add(rng.randint(max(1, index - RECENT_WINDOW), earlier))
            else:
                requires.add(rng.randint(1, earlier))
        listed = ", ".join(topic_id(r, width) for r in sorted(requires))
        lines.append(
            f"      - {{id: {topic_id(index, width)}, title: Topic {index}, "
            f"hours: {rng.randint(1, 20)}, requires: [{listed}]}}"
        )
    path = Path(path)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[0].isdigit():
        sys.stderr.write("usage: python benchmarks/synthetic.py N_TOPICS OUT.yaml\n")
        return 2
    path = write_roadmap(argv[1], int(argv[0]))
    print(f"wrote {path} ({int(argv[0])} topics, {path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
