"""Train the field examples' classifier with the default settings and write it into the
package (src/cbewatch/field_examples.npz), so that no install trains it. Run after
changing src/cbewatch/field_examples.jsonl or the classifier's settings in rank/tuning.py;
tests/test_rank.py fails while the shipped file is stale.

    python -P scripts/ship_field_examples.py
"""

from cbewatch.rank.examples import ship

if __name__ == "__main__":
    print(ship())
