from hub.cli.memberhub import main

main()
