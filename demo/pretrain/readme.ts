import {
  BIBLE_DATA,
  BIBLE_PROGRAM,
  HELD_OUT_EVERY,
  HELD_OUT_REMAINDER,
  SYNSETS_PER_DOCUMENT,
  WORDNET_FILES,
} from './corpus';

export interface PretrainReport {
  readonly settings: {
    readonly seed: number;
    readonly vocabSize: number;
    readonly sequenceLength: number;
    readonly architecture: {
      readonly hiddenSize: number;
      readonly numLayers: number;
      readonly numHeads: number;
      readonly numKvHeads: number;
      readonly intermediateSize: number;
      readonly maxPositionEmbeddings: number;
      readonly ropeTheta: number;
      readonly initializerRange: number;
    };
    readonly backend: string;
    readonly batchSize: number;
    readonly steps: number;
    readonly learningRate: number;
    readonly warmupSteps: number;
    readonly weightDecay: number;
    readonly beta1: number;
    readonly beta2: number;
    readonly maxGradNorm: number;
    readonly checkpointEvery: number;
  };
  readonly parameters: number;
  readonly step: number;
  readonly totalSteps: number;
  readonly tokensSeen: number;
  readonly trainingSeconds: number;
  readonly trainTokens: number;
  readonly trainDocuments: number;
  readonly heldOutDocuments: number;
  readonly heldOutTargets: number;
  readonly heldOutLoss: number;
  readonly heldOutAccuracy: number;
  readonly unigramLoss: number;
  readonly sha256: string;
}

const COMMAND =
  'WHETSTONE_THREADS=1 npx tsx demo/pretrain/main.ts --out demo/base-model --scratch /work/pretrain-scratch';

/** The model card: what the model is, what it was trained on and how, and what it scores. */
export function readmeText(report: PretrainReport): string {
  const { settings } = report;
  const a = settings.architecture;
  const finished = report.step === report.totalSteps;
  const minutes = (report.trainingSeconds / 60).toFixed(1);
  return `# Whetstone demo base model

A small Llama-architecture language model pre-trained from random initialisation with Whetstone's own
training engine (\`trainer/src\`), on public-domain and permissively licensed English text from Debian
packages. It is the base model of the demo (\`npm run demo\`): small enough to fine-tune on two CPU cores
in minutes. It writes English in the style of its corpus; it knows nothing of chat or instructions.

${finished ? '' : `**Intermediate state: step ${report.step} of ${report.totalSteps}.**\n\n`}## Model

| | |
|---|---|
| Architecture | \`LlamaForCausalLM\`, tied input and output embeddings |
| Parameters | ${report.parameters.toLocaleString('en-US')} |
| Layers | ${a.numLayers} |
| Hidden size | ${a.hiddenSize} |
| Attention heads | ${a.numHeads} (${a.numKvHeads} key-value heads, head size ${a.hiddenSize / a.numHeads}) |
| MLP intermediate size | ${a.intermediateSize} (SiLU gated) |
| Context length | ${a.maxPositionEmbeddings} (RoPE, theta ${a.ropeTheta}); trained on ${settings.sequenceLength}-token sequences |
| Vocabulary | ${settings.vocabSize}: byte-level BPE (256 bytes, ${settings.vocabSize - 259} merges) and 3 special tokens |
| Weights | \`model.safetensors\`, bfloat16 |

Tokenizer: GPT-2-style byte-level BPE (GPT-2's pre-tokenisation pattern and byte-to-unicode
alphabet), trained on the training split by \`demo/pretrain/bpe.ts\`. Special tokens
\`<|endoftext|>\` (document separator, padding), \`<|im_start|>\` and \`<|im_end|>\` (ChatML; eos).
\`tokenizer_config.json\` carries a ChatML chat template (any role; \`add_generation_prompt\` opens an
assistant turn) and no bos token.

## Training data

| Source | Debian package | Files | Licence |
|---|---|---|---|
| King James Bible (1611) | \`bible-kjv-text\`, decoded by \`bible\` from \`bible-kjv\` | \`${BIBLE_DATA}\` via \`${BIBLE_PROGRAM} -f gen1:1-rev22:21\` | Public domain (per the package's copyright file, the KJV's copyright has expired; the data file is "provided for unrestricted use") |
| WordNet 3.0 glosses and examples | \`wordnet-base\` | ${WORDNET_FILES.map((file) => `\`${file}\``).join(', ')} | WordNet 3.0 licence (Princeton University), reproduced below |

\`demo/pretrain/corpus.ts\` builds the text: one document per Bible chapter (one verse a line, verse
references dropped), and one per ${SYNSETS_PER_DOCUMENT} consecutive WordNet synsets (one line each:
\`lemma, lemma: gloss; "example"\`). Text is NFC-normalised, runs of spaces and tabs are collapsed and
empty lines dropped. Document *i* of the list (Bible chapters, then WordNet nouns, verbs, adjectives,
adverbs) is held out when *i* mod ${HELD_OUT_EVERY} = ${HELD_OUT_REMAINDER}:
${report.heldOutDocuments} held-out and ${report.trainDocuments} training documents. The training split is
${report.trainTokens.toLocaleString('en-US')} tokens, documents each followed by \`<|endoftext|>\`, packed into
${settings.sequenceLength}-token sequences.

## Training

\`\`\`
apt-get install -y bible-kjv bible-kjv-text wordnet-base
${COMMAND}
\`\`\`

Everything is drawn from seed ${settings.seed}, so running the command again gives the same model on the
same back end with the same thread count. It checkpoints every ${settings.checkpointEvery} steps into the
scratch folder, writes the model as it stands to \`--out\`, and resumes from the newest checkpoint when
started again; \`--export-only\` writes the newest checkpoint's model without training further.

| | |
|---|---|
| Back end | \`${settings.backend}\` (one thread: \`WHETSTONE_THREADS=1\`) |
| Initialisation | normal(0, ${a.initializerRange}) for matrices and embeddings, norm weights 1 |
| Optimizer | AdamW, betas (${settings.beta1}, ${settings.beta2}), weight decay ${settings.weightDecay} on matrices and embeddings, gradient clipping at ${settings.maxGradNorm} |
| Learning rate | ${settings.learningRate}, linear warmup over ${settings.warmupSteps} steps, cosine decay to 0 |
| Batch | ${settings.batchSize} sequences of ${settings.sequenceLength} tokens, all targets trained |
| Steps | ${report.step} of ${report.totalSteps} |
| Tokens seen | ${report.tokensSeen.toLocaleString('en-US')} |
| Training wall time | ${minutes} minutes (checkpoints and evaluations excluded) |

## Evaluation

Held-out text: the ${report.heldOutDocuments} held-out documents, packed the same way, scored on
${report.heldOutTargets.toLocaleString('en-US')} target tokens. The unigram baseline uses token frequencies of the
training split with add-one smoothing and the same tokenizer.

| Model | Loss (nats/token) | Perplexity |
|---|---|---|
| This model | ${report.heldOutLoss.toFixed(4)} | ${Math.exp(report.heldOutLoss).toFixed(2)} |
| Unigram baseline | ${report.unigramLoss.toFixed(4)} | ${Math.exp(report.unigramLoss).toFixed(2)} |

Held-out next-token accuracy: ${(report.heldOutAccuracy * 100).toFixed(1)}%.

sha256 of \`model.safetensors\`: \`${report.sha256}\`

## Licence

The model files (weights, configuration, tokenizer) are released under the Apache License 2.0, as the
rest of this repository. They are derived from the King James Bible (public domain) and from WordNet
3.0, whose licence (from \`/usr/share/doc/wordnet-base/copyright\`) requires this notice on all copies:

> This software and database is being provided to you, the LICENSEE, by Princeton University under the
> following license. By obtaining, using and/or copying this software and database, you agree that you
> have read, understood, and will comply with these terms and conditions.:
>
> Permission to use, copy, modify and distribute this software and database and its documentation for
> any purpose and without fee or royalty is hereby granted, provided that you agree to comply with the
> following copyright notice and statements, including the disclaimer, and that the same appear on ALL
> copies of the software, database and documentation, including modifications that you make for
> internal use or for distribution.
>
> WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.
>
> THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON UNIVERSITY MAKES NO REPRESENTATIONS OR
> WARRANTIES, EXPRESS OR IMPLIED. BY WAY OF EXAMPLE, BUT NOT LIMITATION, PRINCETON UNIVERSITY MAKES NO
> REPRESENTATIONS OR WARRANTIES OF MERCHANTABILITY OR FITNESS FOR ANY PARTICULAR PURPOSE OR THAT THE USE
> OF THE LICENSED SOFTWARE, DATABASE OR DOCUMENTATION WILL NOT INFRINGE ANY THIRD PARTY PATENTS,
> COPYRIGHTS, TRADEMARKS OR OTHER RIGHTS.
>
> The name of Princeton University or Princeton may not be used in advertising or publicity pertaining
> to distribution of the software and/or database. Title to copyright in this software, database and
> any associated documentation shall at all times remain with Princeton University and LICENSEE agrees
> to preserve same.
`;
}
