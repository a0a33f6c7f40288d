RESULTS: list[tuple[str, str, bool]] = []
