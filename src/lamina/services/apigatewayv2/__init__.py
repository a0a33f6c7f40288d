"""API Gateway HTTP APIs (apigatewayv2): APIs, routes, integrations, stages and deployments, and the route
selection its front door (front_doors/http_api.py) asks for."""
