from gapmend.app.cli import main

main()
