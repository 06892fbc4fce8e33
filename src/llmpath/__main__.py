from llmpath.cli import main

main()
