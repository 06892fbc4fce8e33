"""The starter roadmap `llmpath init` writes: small, valid, and commented so it teaches the format."""

STARTER_ROADMAP = """\
# yaml-language-server: $schema=roadmap.schema.json
# A starter llmpath roadmap. Edit it, check it with `llmpath validate FILE`, then track it with
# `llmpath use FILE` (or `llmpath --roadmap FILE next` for a single command).
# The full format is described in docs/ROADMAP_FORMAT.md; `llmpath schema` prints a JSON Schema for editors.

schema: 1                 # file format version
id: my-path               # progress is stored under this id: keep it stable
title: My Learning Path
description: What this path is for, and where its material comes from.

sources:                  # optional: where the material comes from; topics cite these ids
  - id: my-notes
    title: My own notes

phases:                   # in study order
  - id: basics            # ids: lowercase letters, digits and single hyphens
    title: Basics
    summary: What to learn first.
    topics:               # in recommended study order within the phase
      - id: first-topic
        title: First Topic
        summary: One or two sentences on what this topic covers.
        hours: 4          # a rough study estimate
        difficulty: beginner   # beginner | intermediate | advanced | expert
        sources: [my-notes]
      - id: second-topic
        title: Second Topic
        requires: [first-topic]   # direct prerequisites only, from any phase
        aliases: [second]         # other names you may type
        hours: 6
        resources:
          - title: A good article
            url: https://example.com/article

  - id: practice
    title: Practice
    topics:
      - id: first-project
        title: A First Project
        kind: project     # a hands-on build (default: topic)
        requires: [second-topic]
        hours: 10

tracks:                   # optional: named ways through the roadmap (`llmpath track ID` follows one)
  - id: quick-start
    title: Quick Start
    summary: Just the basics.
    goals: [second-topic] # the track is its goals and everything they require
"""
