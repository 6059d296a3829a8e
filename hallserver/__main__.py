from hallserver.cli import main

main()
