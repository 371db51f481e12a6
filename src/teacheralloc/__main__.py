"""`python -m teacheralloc` runs the command line."""

from teacheralloc.cli import main

main()
