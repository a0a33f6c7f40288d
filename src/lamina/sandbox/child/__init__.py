"""Code that runs inside the zygote and the environment processes it forks, not in the platform.

Standard library only, and only relative imports: the zygote imports this package from its own directory,
with no site-packages, so nothing of the platform leaks into a function's interpreter.
"""
