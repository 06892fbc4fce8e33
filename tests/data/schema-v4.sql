-- A database of schema version 4 (llmpath 0.2.0, before learners), made with that release:
-- done, start, skip, notes, a goal, a followed track, eta and review settings. Roadmap rows left out
-- (they are a cache of the file); the roadmap record's hash is 'old' so the next command re-loads it.
PRAGMA user_version = 4;
BEGIN TRANSACTION;
CREATE TABLE event (
	id INTEGER NOT NULL, 
	roadmap_id VARCHAR NOT NULL, 
	topic_id VARCHAR NOT NULL, 
	at DATETIME NOT NULL, 
	old_status VARCHAR NOT NULL, 
	new_status VARCHAR NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "event" VALUES(1,'llm-engineer','llm-overview','2026-11-30 05:34:46.639070','todo','done');
INSERT INTO "event" VALUES(2,'llm-engineer','python-programming','2026-11-30 05:34:46.639070','todo','done');
INSERT INTO "event" VALUES(3,'llm-engineer','sql-databases','2026-11-30 05:34:47.152930','todo','doing');
INSERT INTO "event" VALUES(4,'llm-engineer','linear-algebra','2026-11-30 05:34:47.651856','todo','skipped');
CREATE TABLE goal (
	roadmap_id VARCHAR NOT NULL, 
	topic_id VARCHAR NOT NULL, 
	PRIMARY KEY (roadmap_id, topic_id)
);
INSERT INTO "goal" VALUES('llm-engineer','rag-fundamentals');
CREATE TABLE note (
	id INTEGER NOT NULL, 
	roadmap_id VARCHAR NOT NULL, 
	topic_id VARCHAR NOT NULL, 
	at DATETIME NOT NULL, 
	text VARCHAR NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "note" VALUES(1,'llm-engineer','python-programming','2026-11-30 05:34:48.138489','Fluent Python ch. 1-5 — done');
INSERT INTO "note" VALUES(2,'llm-engineer','sql-databases','2026-11-30 05:34:48.643611','window functions next');
CREATE TABLE phase (
	roadmap_id VARCHAR NOT NULL, 
	id VARCHAR NOT NULL, 
	position INTEGER NOT NULL, 
	title VARCHAR NOT NULL, 
	summary VARCHAR NOT NULL, 
	PRIMARY KEY (roadmap_id, id)
);
CREATE TABLE prerequisite (
	roadmap_id VARCHAR NOT NULL, 
	topic_id VARCHAR NOT NULL, 
	requires_id VARCHAR NOT NULL, 
	PRIMARY KEY (roadmap_id, topic_id, requires_id)
);
CREATE TABLE progress (
	roadmap_id VARCHAR NOT NULL, 
	topic_id VARCHAR NOT NULL, 
	status VARCHAR NOT NULL, 
	started_at DATETIME, 
	finished_at DATETIME, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (roadmap_id, topic_id)
);
INSERT INTO "progress" VALUES('llm-engineer','llm-overview','done',NULL,'2026-11-30 05:34:46.639070','2026-11-30 05:34:46.639070');
INSERT INTO "progress" VALUES('llm-engineer','python-programming','done',NULL,'2026-11-30 05:34:46.639070','2026-11-30 05:34:46.639070');
INSERT INTO "progress" VALUES('llm-engineer','sql-databases','doing','2026-11-30 05:34:47.152930',NULL,'2026-11-30 05:34:47.152930');
INSERT INTO "progress" VALUES('llm-engineer','linear-algebra','skipped',NULL,'2026-11-30 05:34:47.651856','2026-11-30 05:34:47.651856');
CREATE TABLE roadmap (
	id VARCHAR NOT NULL, 
	title VARCHAR NOT NULL, 
	description VARCHAR NOT NULL, 
	sources_json VARCHAR NOT NULL, 
	tracks_json VARCHAR NOT NULL, 
	source_path VARCHAR NOT NULL, 
	content_hash VARCHAR NOT NULL, 
	file_size INTEGER NOT NULL, 
	file_mtime_ns INTEGER NOT NULL, 
	file_ctime_ns INTEGER NOT NULL, 
	loaded_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "roadmap" VALUES('llm-engineer','LLM Engineer','A self-study path to becoming an LLM engineer: math, Python and classic machine learning; neural networks and classic NLP; transformers and working with LLMs; evaluation and reasoning; building LLM applications; data and pre-training; fine-tuning and alignment; efficiency and newer architectures; and running LLM systems in production safely and responsibly. It merges five public learning roadmaps (see `sources`) into one deduplicated set of topics whose prerequisites say what each topic truly needs, with hands-on projects in every phase and tracks for application engineers and model scientists, each ending in a capstone. The `hours` estimate what a working adult needs to read a topic''s main resource, do its exercises and a small build of their own.','[{"id": "llm-course", "title": "Large Language Model Course (Maxime Labonne)", "url": "https://github.com/mlabonne/llm-course"}, {"id": "hands-on-series", "title": "LLM Roadmap, a hands-on tutorial series", "url": null}, {"id": "dev-roadmap", "title": "LLM development Roadmap", "url": null}, {"id": "from-scratch", "title": "LLM from Scratch Roadmap", "url": null}, {"id": "checklist", "title": "Learning Roadmap for Large Language Models (LLMs)", "url": null}]','[{"id": "application-engineer", "title": "LLM Application Engineer", "summary": "Build products on top of models: calling APIs and open models, prompting, evals and benchmarks, structured outputs and tools (MCP), prompt injection and guardrails, RAG, agents, deployment, observability, cost and governance. No pre-training run, no RLHF practice, no backpropagation by hand; it ends by shipping a production LLM application.", "goals": ["research-frontier", "human-evaluation", "benchmarks", "eval-harness-project", "reasoning-models", "llm-orchestration", "chatbot-project", "semantic-search-project", "rag-app-project", "agent-project", "multi-agent-systems", "text-to-sql", "multimodal-apps", "llm-experimentation", "red-teaming", "ai-governance", "capstone-llm-application"], "topics": ["llm-overview", "research-frontier", "python-programming", "dev-environment", "docker-basics", "sql-databases", "probability-statistics", "information-theory", "tokenization", "running-llms", "prompt-engineering", "llm-evals", "evaluation-metrics", "benchmarks", "llm-as-judge", "human-evaluation", "safety-evaluation", "eval-harness-project", "chain-of-thought", "reasoning-models", "structured-outputs", "function-calling", "mcp", "llm-security", "guardrails", "context-engineering", "llm-orchestration", "llm-web-apps", "chatbot-project", "text-embeddings", "vector-databases", "semantic-search-project", "document-ingestion", "rag-fundamentals", "rag-evaluation", "hybrid-search-reranking", "advanced-rag", "rag-app-project", "ai-agents", "agent-project", "multi-agent-systems", "text-to-sql", "multimodal-apps", "llm-deployment", "llmops-fundamentals", "llm-ci-cd", "llm-observability", "llm-experimentation", "cost-optimization", "red-teaming", "privacy-preserving-ml", "ai-governance", "capstone-llm-application"]}, {"id": "model-scientist", "title": "LLM Model Scientist", "summary": "Train and adapt the models themselves: the math and deep learning underneath, transformers built from scratch, data and pre-training, fine-tuning and alignment, evaluation, efficiency and newer architectures. It ends by fine-tuning, aligning, quantizing and serving a model of your own.", "goals": ["research-frontier", "mlp-from-scratch", "bpe-tokenizer-project", "word2vec-from-scratch", "rnn-language-model", "seq2seq-attention", "human-evaluation", "eval-harness-project", "reasoning-models", "test-time-compute", "synthetic-data", "gpt2-scale-training", "instruction-tuning-project", "lora-fine-tuning-project", "model-merging", "continual-learning", "rlhf-ppo", "preference-tuning-project", "constitutional-ai", "rl-for-reasoning", "quantize-and-serve-project", "model-compression", "speculative-decoding", "mixture-of-experts", "long-context", "state-space-models", "vision-language-models", "speech-audio-llms", "text-to-image", "interpretability", "capstone-model"], "topics": ["llm-overview", "research-frontier", "python-programming", "dev-environment", "docker-basics", "sql-databases", "linear-algebra", "calculus", "probability-statistics", "information-theory", "python-data-science", "ml-fundamentals", "neural-network-basics", "backpropagation", "optimization-algorithms", "weight-initialization", "regularization", "mixed-precision-training", "mlp-from-scratch", "cnn-resnet", "tokenization", "text-preprocessing", "subword-tokenization", "bpe-tokenizer-project", "word-embeddings", "word2vec-from-scratch", "ngram-language-models", "neural-language-models", "recurrent-neural-networks", "rnn-language-model", "seq2seq-attention", "attention-mechanism", "positional-encoding", "transformer-architecture", "transformer-from-scratch", "pretraining-objectives", "text-generation-decoding", "tiny-gpt", "embedding-models", "gpt-evolution", "modern-llm-architectures", "running-llms", "prompt-engineering", "quantization-fundamentals", "llm-evals", "evaluation-metrics", "benchmarks", "llm-as-judge", "human-evaluation", "eval-harness-project", "chain-of-thought", "reasoning-models", "test-time-compute", "llm-web-apps", "data-collection", "data-cleaning", "deduplication", "data-pipelines", "synthetic-data", "gpu-hardware", "scaling-laws", "distributed-training", "pretraining", "gpt2-scale-training", "instruction-datasets", "supervised-fine-tuning", "instruction-tuning-project", "peft-lora", "lora-fine-tuning-project", "model-merging", "continual-learning", "reward-modeling", "reinforcement-learning-basics", "rlhf-ppo", "direct-preference-optimization", "preference-tuning-project", "constitutional-ai", "rl-for-reasoning", "gguf-llama-cpp", "advanced-quantization", "quantize-and-serve-project", "model-compression", "kv-cache", "speculative-decoding", "efficient-attention", "mixture-of-experts", "long-context", "state-space-models", "vision-language-models", "speech-audio-llms", "text-to-image", "llm-deployment", "inference-serving", "interpretability", "capstone-model"]}, {"id": "whole-path", "title": "The Whole Path", "summary": "Every topic of the roadmap, for those who want both sides; it ends in both capstones.", "goals": ["research-frontier", "mlp-from-scratch", "bpe-tokenizer-project", "word2vec-from-scratch", "rnn-language-model", "seq2seq-attention", "human-evaluation", "eval-harness-project", "reasoning-models", "test-time-compute", "llm-orchestration", "chatbot-project", "semantic-search-project", "rag-app-project", "agent-project", "multi-agent-systems", "text-to-sql", "multimodal-apps", "synthetic-data", "gpt2-scale-training", "instruction-tuning-project", "lora-fine-tuning-project", "model-merging", "continual-learning", "rlhf-ppo", "preference-tuning-project", "constitutional-ai", "rl-for-reasoning", "quantize-and-serve-project", "model-compression", "speculative-decoding", "mixture-of-experts", "long-context", "state-space-models", "vision-language-models", "speech-audio-llms", "text-to-image", "llm-experimentation", "red-teaming", "interpretability", "ai-governance", "capstone-llm-application", "capstone-model"], "topics": ["llm-overview", "research-frontier", "python-programming", "dev-environment", "docker-basics", "sql-databases", "linear-algebra", "calculus", "probability-statistics", "information-theory", "python-data-science", "ml-fundamentals", "neural-network-basics", "backpropagation", "optimization-algorithms", "weight-initialization", "regularization", "mixed-precision-training", "mlp-from-scratch", "cnn-resnet", "tokenization", "text-preprocessing", "subword-tokenization", "bpe-tokenizer-project", "word-embeddings", "word2vec-from-scratch", "ngram-language-models", "neural-language-models", "recurrent-neural-networks", "rnn-language-model", "seq2seq-attention", "attention-mechanism", "positional-encoding", "transformer-architecture", "transformer-from-scratch", "pretraining-objectives", "text-generation-decoding", "tiny-gpt", "embedding-models", "gpt-evolution", "modern-llm-architectures", "running-llms", "prompt-engineering", "quantization-fundamentals", "llm-evals", "evaluation-metrics", "benchmarks", "llm-as-judge", "human-evaluation", "safety-evaluation", "eval-harness-project", "chain-of-thought", "reasoning-models", "test-time-compute", "structured-outputs", "function-calling", "mcp", "llm-security", "guardrails", "context-engineering", "llm-orchestration", "llm-web-apps", "chatbot-project", "text-embeddings", "vector-databases", "semantic-search-project", "document-ingestion", "rag-fundamentals", "rag-evaluation", "hybrid-search-reranking", "advanced-rag", "rag-app-project", "ai-agents", "agent-project", "multi-agent-systems", "text-to-sql", "multimodal-apps", "data-collection", "data-cleaning", "deduplication", "data-pipelines", "synthetic-data", "gpu-hardware", "scaling-laws", "distributed-training", "pretraining", "gpt2-scale-training", "instruction-datasets", "supervised-fine-tuning", "instruction-tuning-project", "peft-lora", "lora-fine-tuning-project", "model-merging", "continual-learning", "reward-modeling", "reinforcement-learning-basics", "rlhf-ppo", "direct-preference-optimization", "preference-tuning-project", "constitutional-ai", "rl-for-reasoning", "gguf-llama-cpp", "advanced-quantization", "quantize-and-serve-project", "model-compression", "kv-cache", "speculative-decoding", "efficient-attention", "mixture-of-experts", "long-context", "state-space-models", "vision-language-models", "speech-audio-llms", "text-to-image", "llm-deployment", "inference-serving", "llmops-fundamentals", "llm-ci-cd", "llm-observability", "llm-experimentation", "cost-optimization", "red-teaming", "privacy-preserving-ml", "interpretability", "ai-governance", "capstone-llm-application", "capstone-model"]}]','','old',0,0,0,'2026-11-30 05:34:42.672442');
CREATE TABLE setting (
	"key" VARCHAR NOT NULL, 
	value VARCHAR NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "setting" VALUES('track:llm-engineer','application-engineer');
INSERT INTO "setting" VALUES('eta','on');
INSERT INTO "setting" VALUES('review_every_days','30');
CREATE TABLE topic (
	roadmap_id VARCHAR NOT NULL, 
	id VARCHAR NOT NULL, 
	phase_id VARCHAR NOT NULL, 
	position INTEGER NOT NULL, 
	title VARCHAR NOT NULL, 
	summary VARCHAR NOT NULL, 
	difficulty VARCHAR, 
	hours FLOAT, 
	kind VARCHAR NOT NULL, 
	details_json VARCHAR NOT NULL, 
	PRIMARY KEY (roadmap_id, id)
);
CREATE TABLE topic_alias (
	roadmap_id VARCHAR NOT NULL, 
	alias VARCHAR NOT NULL, 
	topic_id VARCHAR NOT NULL, 
	PRIMARY KEY (roadmap_id, alias)
);
CREATE INDEX ix_roadmap_source_path ON roadmap (source_path);
CREATE INDEX ix_event_roadmap_id ON event (roadmap_id);
CREATE INDEX ix_event_at ON event (at);
CREATE INDEX ix_note_roadmap_id ON note (roadmap_id);
COMMIT;
