FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --create-home nexus && chown -R nexus /app
USER nexus
# 8000: gunicorn (REST, the CMD); 8001: uvicorn for /ws/ (docker-compose.yml's ws service).
EXPOSE 8000 8001
CMD ["sh", "-c", "python manage.py migrate --no-input && python manage.py collectstatic --no-input -v 0 && gunicorn -c gunicorn.conf.py nexus.wsgi:application --bind 0.0.0.0:8000 --workers ${GUNICORN_WORKERS:-$(( $(nproc) + 1 ))} --access-logfile -"]
