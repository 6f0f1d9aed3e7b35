from postureapp.cli import main

main()
