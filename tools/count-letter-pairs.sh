#!/usr/bin/env bash
# Counts the letter pairs of Debian's French and American English word lists into the tables LetterFrequencies ships
# (src/Ocr.MLNet/Fields/LetterPairs/*.tsv): accents folded into their letter, words split at hyphens and apostrophes,
# one count per word form, a space for a word's edge.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f /usr/share/dict/french || ! -f /usr/share/dict/american-english ]]; then
    apt-get update -qq && apt-get install -y -qq wfrench wamerican
fi
count() { # word list, package name, output
    python3 - "$1" "$2" "$3" <<'PY'
import collections, sys, unicodedata
source, package, output = sys.argv[1:]
pairs = collections.Counter()
for word in open(source, encoding='utf-8', errors='ignore'):
    word = ''.join(c for c in unicodedata.normalize('NFD', word.strip()) if not unicodedata.combining(c)).upper()
    word = word.replace('Œ', 'OE').replace('Æ', 'AE')
    if not word or not all('A' <= c <= 'Z' or c in "-'" for c in word):
        continue
    for part in word.replace("'", '-').split('-'):
        if part:
            padded = ' ' + part + ' '
            pairs.update(a + b for a, b in zip(padded, padded[1:]))
with open(output, 'w') as f:
    f.write(f"# Letter pairs in the words of Debian's {package} word list ({source}), one count per word form; a space is a word's edge. Made by tools/count-letter-pairs.sh.\n")
    for pair, n in sorted(pairs.items()):
        f.write(f'{pair}\t{n}\n')
PY
}
count /usr/share/dict/french wfrench src/Ocr.MLNet/Fields/LetterPairs/french.tsv
count /usr/share/dict/american-english wamerican src/Ocr.MLNet/Fields/LetterPairs/english.tsv
