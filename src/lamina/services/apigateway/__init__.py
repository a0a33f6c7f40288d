"""API Gateway REST APIs (`apigateway`, rest-json 2015-07-09): the API in provider.py, the state and the
routing of deployed stages in engine.py; the HTTP side is front_doors/rest_api.py."""
