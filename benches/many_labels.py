#!/usr/bin/env python3
"""Synthetic single-label data with many labels, for the memory of multinomial training.

usage: benches/many_labels.py DOCS LABELS VOCAB WORDS OUT.jsonl [SEED]

Each document draws WORDS words uniformly from a vocabulary of VOCAB words, then three words of
its label's signature (three vocabulary words fixed per label), so every label is learnable; the
terms are the vocabulary's words and the word pairs that occur twice. Every label occurs; past
the first LABELS documents (one per label), labels are drawn uniformly.
Deterministic for a seed. The multinomial's memory grows with documents × labels (its margins)
and with terms × labels (its weights): VOCAB and WORDS set the terms.
"""
import json
import random
import sys


def main():
    docs, labels, vocab, words = (int(a) for a in sys.argv[1:5])
    out = sys.argv[5]
    rng = random.Random(int(sys.argv[6]) if len(sys.argv) > 6 else 1)
    names = [f"w{r}" for r in range(vocab)]
    signature = [rng.sample(names, 3) for _ in range(labels)]
    with open(out, "w") as f:
        for i in range(docs):
            # The first LABELS documents take each label once, so all of them occur.
            label = i if i < labels else rng.randrange(labels)
            text = rng.choices(names, k=words) + signature[label]
            rng.shuffle(text)
            f.write(json.dumps({"id": f"d{i}", "text": " ".join(text), "label": f"label{label}"}) + "\n")


if __name__ == "__main__":
    main()
