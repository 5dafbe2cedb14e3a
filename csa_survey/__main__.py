import sys

from csa_survey.cli import main

if __name__ == "__main__":
    sys.exit(main())
