from kurator.cli.main import run

run()
