"""The DO-178C / DO-333 evidence package: collect, judge, render."""
